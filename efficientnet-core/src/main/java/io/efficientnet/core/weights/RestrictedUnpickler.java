package io.efficientnet.core.weights;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the pickle of a PyTorch {@code state_dict} ({@code data.pkl} in a {@code torch.save} zip) without running
 * anything: only the opcodes a state_dict uses are implemented, and only the globals it references are accepted
 * ({@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2} and {@code _rebuild_parameter}, and the
 * float, half, bfloat16, double and long storage types). Any other global is refused by name before anything else
 * happens. Dicts become {@link LinkedHashMap}s, lists {@link ArrayList}s, tuples {@link Tuple}s, ints {@link Long}s,
 * tensors {@link TensorRef}s pointing into the archive's storages.
 */
final class RestrictedUnpickler {

    /** A Python tuple. */
    record Tuple(List<Object> items) {
    }

    /** A global accepted by the allow-list, e.g. {@code collections.OrderedDict}. */
    record Global(String module, String name) {
        String qualified() {
            return module + "." + name;
        }
    }

    /** A storage of the archive: {@code data/<key>}, {@code numel} elements of {@code dtype}. */
    record StorageRef(TensorDType dtype, String key, long numel) {
    }

    /** A tensor: a strided view of a storage. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
    }

    private static final Set<String> CALLABLES = Set.of("collections.OrderedDict",
            "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter");
    private static final Map<String, TensorDType> STORAGES = Map.of("torch.FloatStorage", TensorDType.F32,
            "torch.HalfStorage", TensorDType.F16, "torch.BFloat16Storage", TensorDType.BF16,
            "torch.DoubleStorage", TensorDType.F64, "torch.LongStorage", TensorDType.I64);

    /** Values pushed at most (a B7 state_dict pushes about 20,000): bounds the memory a crafted pickle can claim. */
    static final int MAX_VALUES = 1 << 21;

    private final ByteBuffer in;
    private final String source;
    private final List<Object> stack = new ArrayList<>();
    private final Deque<Integer> marks = new ArrayDeque<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private int pushed;

    private RestrictedUnpickler(byte[] pickle, String source) {
        this.in = ByteBuffer.wrap(pickle).order(ByteOrder.LITTLE_ENDIAN);
        this.source = source;
    }

    /**
     * Unpickles {@code pickle}.
     *
     * @param source names the pickle in messages, e.g. {@code model.pth!model/data.pkl}
     * @throws IOException if the pickle references another global, uses another opcode, or is malformed
     */
    static Object load(byte[] pickle, String source) throws IOException {
        RestrictedUnpickler u = new RestrictedUnpickler(pickle, source);
        try {
            return u.run();
        } catch (BufferUnderflowException | IndexOutOfBoundsException | ClassCastException
                 | NullPointerException e) {
            throw new IOException(source + " is a truncated or malformed pickle (at byte " + u.in.position() + ")");
        }
    }

    private Object run() throws IOException {
        while (true) {
            int at = in.position();
            int op = in.get() & 0xff;
            switch (op) {
                case 0x80 -> { // PROTO
                    int protocol = in.get() & 0xff;
                    if (protocol > 5) {
                        throw malformed("pickle protocol " + protocol, at);
                    }
                }
                case 0x95 -> in.position(in.position() + 8); // FRAME: the length only helps buffering
                case '.' -> { // STOP
                    return pop();
                }
                case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                case ')' -> push(new Tuple(List.of())); // EMPTY_TUPLE
                case '(' -> marks.push(stack.size()); // MARK
                case 'q' -> memo.put((long) (in.get() & 0xff), peek()); // BINPUT
                case 'r' -> memo.put(in.getInt() & 0xffffffffL, peek()); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), peek()); // MEMOIZE
                case 'h' -> push(memoGet(in.get() & 0xff, at)); // BINGET
                case 'j' -> push(memoGet(in.getInt() & 0xffffffffL, at)); // LONG_BINGET
                case 'X' -> push(utf8(in.getInt() & 0xffffffffL, at)); // BINUNICODE
                case 0x8c -> push(utf8(in.get() & 0xff, at)); // SHORT_BINUNICODE
                case 'J' -> push((long) in.getInt()); // BININT
                case 'K' -> push((long) (in.get() & 0xff)); // BININT1
                case 'M' -> push((long) (in.getShort() & 0xffff)); // BININT2
                case 0x8a -> push(long1(at)); // LONG1
                case 'N' -> push(null); // NONE
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // BINFLOAT: big-endian
                case 't' -> push(new Tuple(popMark())); // TUPLE
                case 0x85, 0x86, 0x87 -> { // TUPLE1, TUPLE2, TUPLE3
                    int n = op - 0x84;
                    List<Object> items = new ArrayList<>(stack.subList(stack.size() - n, stack.size()));
                    stack.subList(stack.size() - n, stack.size()).clear();
                    push(new Tuple(items));
                }
                case 'l' -> push(new ArrayList<>(popMark())); // LIST
                case 'd' -> push(setItems(new LinkedHashMap<>(), popMark(), at)); // DICT
                case 's' -> { // SETITEM
                    Object value = pop();
                    Object key = pop();
                    dict(peek(), at).put(key, value);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    setItems(dict(peek(), at), items, at);
                }
                case 'a' -> { // APPEND
                    Object value = pop();
                    list(peek(), at).add(value);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark();
                    list(peek(), at).addAll(items);
                }
                case 'c' -> push(global(line(at), line(at))); // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    push(global((String) module, (String) name));
                }
                case 'R' -> { // REDUCE
                    Object args = pop();
                    push(reduce(pop(), args, at));
                }
                case 'Q' -> push(persistentLoad(pop(), at)); // BINPERSID
                case 'b' -> { // BUILD: torch sets an OrderedDict's _metadata attribute; the import does not need it
                    pop();
                    dict(peek(), at);
                }
                default -> throw malformed(String.format("opcode 0x%02x, which a PyTorch state_dict does not use,", op),
                        at);
            }
        }
    }

    private Global global(String module, String name) throws IOException {
        String qualified = module + "." + name;
        if (!CALLABLES.contains(qualified) && !STORAGES.containsKey(qualified)) {
            throw new IOException(source + " references the Python global '" + qualified + "', which a PyTorch "
                    + "state_dict does not use: refused (loading this file in Python could run code). Only "
                    + "collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and "
                    + "torch storage types are accepted; a file holding a whole model object references its classes: "
                    + "save model.state_dict() instead");
        }
        return new Global(module, name);
    }

    private Object reduce(Object callable, Object args, int at) throws IOException {
        List<Object> a = ((Tuple) args).items();
        String name = callable instanceof Global g ? g.qualified() : String.valueOf(callable);
        switch (name) {
            case "collections.OrderedDict" -> {
                if (!a.isEmpty()) {
                    throw malformed("OrderedDict with arguments", at);
                }
                return new LinkedHashMap<>();
            }
            case "torch._utils._rebuild_tensor_v2" -> {
                if (a.size() < 4 || !(a.get(0) instanceof StorageRef storage)) {
                    throw malformed("_rebuild_tensor_v2 call", at);
                }
                return new TensorRef(storage, (Long) a.get(1), longs(a.get(2)), longs(a.get(3)));
            }
            case "torch._utils._rebuild_parameter" -> {
                if (a.isEmpty() || !(a.get(0) instanceof TensorRef tensor)) {
                    throw malformed("_rebuild_parameter call", at);
                }
                return tensor;
            }
            default -> throw malformed("call of " + name, at);
        }
    }

    private StorageRef persistentLoad(Object pid, int at) throws IOException {
        if (!(pid instanceof Tuple t) || t.items().size() != 5 || !"storage".equals(t.items().get(0))
                || !(t.items().get(1) instanceof Global type) || !STORAGES.containsKey(type.qualified())) {
            throw malformed("persistent id " + pid, at);
        }
        long numel = (Long) t.items().get(4);
        if (numel < 0) {
            throw malformed("storage size " + numel, at);
        }
        return new StorageRef(STORAGES.get(type.qualified()), (String) t.items().get(2), numel);
    }

    private static long[] longs(Object tuple) {
        return ((Tuple) tuple).items().stream().mapToLong(o -> (Long) o).toArray();
    }

    private Map<Object, Object> setItems(Map<Object, Object> dict, List<Object> items, int at) throws IOException {
        if (items.size() % 2 != 0) {
            throw malformed("odd number of dict items", at);
        }
        for (int i = 0; i < items.size(); i += 2) {
            dict.put(items.get(i), items.get(i + 1));
        }
        return dict;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o, int at) throws IOException {
        if (!(o instanceof Map)) {
            throw malformed("dict operation on " + typeName(o), at);
        }
        return (Map<Object, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o, int at) throws IOException {
        if (!(o instanceof ArrayList)) {
            throw malformed("list operation on " + typeName(o), at);
        }
        return (List<Object>) o;
    }

    private static String typeName(Object o) {
        return o == null ? "None" : o.getClass().getSimpleName();
    }

    private Object memoGet(long index, int at) throws IOException {
        if (!memo.containsKey(index)) {
            throw malformed("memo entry " + index + " read before it was written", at);
        }
        return memo.get(index);
    }

    private String utf8(long length, int at) throws IOException {
        if (length > in.remaining()) {
            throw malformed("string of " + length + " bytes", at);
        }
        byte[] b = new byte[(int) length];
        in.get(b);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw malformed("string that is not UTF-8", at);
        }
    }

    /** A newline-terminated ASCII line (GLOBAL's module and name). */
    private String line(int at) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (byte b = in.get(); b != '\n'; b = in.get()) {
            if (b < 0x20 || b > 0x7e || sb.length() > 256) {
                throw malformed("GLOBAL name", at);
            }
            sb.append((char) b);
        }
        return sb.toString();
    }

    private long long1(int at) throws IOException {
        int n = in.get() & 0xff;
        if (n > 8) {
            throw malformed(n + "-byte integer", at);
        }
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (in.get() & 0xffL) << (8 * i);
        }
        if (n > 0 && n < 8 && (v & (1L << (8 * n - 1))) != 0) {
            v |= -1L << (8 * n); // sign-extend two's complement
        }
        return v;
    }

    private List<Object> popMark() throws IOException {
        if (marks.isEmpty()) {
            throw malformed("missing MARK", in.position() - 1);
        }
        int mark = marks.pop();
        List<Object> items = new ArrayList<>(stack.subList(mark, stack.size()));
        stack.subList(mark, stack.size()).clear();
        return items;
    }

    private void push(Object o) throws IOException {
        if (++pushed > MAX_VALUES) {
            throw malformed("pickle of more than " + MAX_VALUES + " values", in.position());
        }
        stack.add(o);
    }

    private Object pop() {
        return stack.remove(stack.size() - 1);
    }

    private Object peek() {
        return stack.get(stack.size() - 1);
    }

    private IOException malformed(String what, int at) {
        return new IOException(source + ": unexpected " + what + " at byte " + at
                + " of the pickle; only plain state_dicts saved with torch.save are read");
    }
}
