package io.efficientnet.train.config;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Converts configuration records to nested maps with snake_case keys and back, checking types. Errors name the
 * dotted key ({@code optimizer.lr_per_256}), what was expected and what was found.
 */
final class RecordMaps {

    private RecordMaps() {
    }

    /** The snake_case key of a record component: {@code lrPer256 → lr_per_256}. */
    static String key(String component) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < component.length(); i++) {
            char c = component.charAt(i);
            char prev = i > 0 ? component.charAt(i - 1) : 'x';
            if (Character.isUpperCase(c) || (Character.isDigit(c) && !Character.isDigit(prev))) {
                sb.append('_');
            }
            sb.append(Character.toLowerCase(c));
        }
        return sb.toString();
    }

    /** A record as an ordered map; nested records become nested maps. */
    static Map<String, Object> toMap(Record record) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (RecordComponent rc : record.getClass().getRecordComponents()) {
            Object value = invoke(rc, record);
            map.put(key(rc.getName()), value instanceof Record r ? toMap(r) : value);
        }
        return map;
    }

    /**
     * Builds a record of {@code type} from {@code map}, which must have exactly the record's keys.
     *
     * @param prefix dotted path of {@code map} for messages ("" at the top)
     */
    static <R extends Record> R fromMap(Class<R> type, Map<?, ?> map, String prefix) {
        RecordComponent[] components = type.getRecordComponents();
        Object[] args = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            RecordComponent rc = components[i];
            String key = prefix + key(rc.getName());
            types[i] = rc.getType();
            if (!map.containsKey(key(rc.getName()))) {
                throw new IllegalArgumentException("config key " + key + " is missing");
            }
            args[i] = convert(map.get(key(rc.getName())), rc.getType(), key);
        }
        try {
            Constructor<R> ctor = type.getDeclaredConstructor(types);
            return ctor.newInstance(args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Object convert(Object value, Class<?> type, String key) {
        if (Record.class.isAssignableFrom(type)) {
            if (!(value instanceof Map<?, ?> m)) {
                throw typeError(key, "a section (key: value lines)", value);
            }
            return fromMap((Class<? extends Record>) type, m, key + ".");
        }
        if (value == null) {
            if (type.isPrimitive()) {
                throw typeError(key, expected(type), null);
            }
            return null;
        }
        if (type == int.class || type == Integer.class) {
            return (int) integral(value, key, Integer.MIN_VALUE, Integer.MAX_VALUE);
        }
        if (type == long.class || type == Long.class) {
            return integral(value, key, Long.MIN_VALUE, Long.MAX_VALUE);
        }
        if (type == double.class || type == Double.class) {
            if (value instanceof Number n) {
                return n.doubleValue();
            }
            throw typeError(key, expected(type), value);
        }
        if (type == boolean.class || type == Boolean.class) {
            if (value instanceof Boolean b) {
                return b;
            }
            throw typeError(key, expected(type), value);
        }
        if (type == String.class) {
            if (value instanceof String || value instanceof Number || value instanceof Boolean) {
                return value.toString();
            }
            throw typeError(key, expected(type), value);
        }
        throw new IllegalStateException("unsupported config type " + type + " for " + key);
    }

    private static long integral(Object value, String key, long min, long max) {
        if (value instanceof Integer || value instanceof Long || value instanceof java.math.BigInteger) {
            java.math.BigInteger big = new java.math.BigInteger(value.toString());
            if (big.compareTo(java.math.BigInteger.valueOf(min)) >= 0
                    && big.compareTo(java.math.BigInteger.valueOf(max)) <= 0) {
                return big.longValue();
            }
        }
        throw typeError(key, "a whole number" + (max == Integer.MAX_VALUE ? " (32-bit)" : ""), value);
    }

    private static String expected(Class<?> type) {
        if (type == double.class || type == Double.class) {
            return "a number";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a text value";
        }
        return type.isPrimitive() ? "a value (not null)" : type.getSimpleName();
    }

    private static IllegalArgumentException typeError(String key, String expected, Object got) {
        String shown = got == null ? "null" : got instanceof Map ? "a section" : got instanceof java.util.List
                ? "a list" : "'" + got + "'";
        return new IllegalArgumentException("config key " + key + ": expected " + expected + ", got " + shown);
    }

    private static Object invoke(RecordComponent rc, Record record) {
        try {
            return rc.getAccessor().invoke(record);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
