/* The block decoder's per-line loop and its odd-line check in C (see parse.py):
 * `entries` is decoded.py_entries and `gap` is decoded.py_gap, line for line. Tests run
 * every case of tests/test_audit_parse.py through both. Where this cannot be built,
 * decoded.py runs the Python versions.
 *
 * The decoded lines are msgspec structs of the classes decoded.py defines; their fields
 * are slots, read here at the offsets their member descriptors give (as the
 * interpreter's own specialised LOAD_ATTR does). An object of any other class makes
 * the block take the line-by-line path, as a shape msgspec could not hold would. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

/* Set by configure(), all at once: the struct classes, the entry tuples and the helpers. */
static int ready;
static PyTypeObject *line_t, *message_t, *usage_t, *split_t, *block_t, *usage_tuple, *prompt_tuple;
static PyObject *fromisoformat, *prompt_of, *slow, *synthetic;
static long long token_limit; /* 2 ** lines.TOKEN_BITS */
static PyObject *s_user, *s_tool_result, *s_empty, *s_repeats, *s_malformed, *zero;

/* Where each field the loop reads sits in its struct. */
static struct layout {
    Py_ssize_t l_type, l_timestamp, l_request_id, l_session_id, l_cwd, l_sidechain, l_meta, l_message;
    Py_ssize_t m_id, m_model, m_role, m_usage, m_content;
    Py_ssize_t u_in, u_out, u_created, u_read, u_split;
    Py_ssize_t s_5m, s_1h, b_type;
} at;

#define SLOT(obj, field) (*(PyObject **)((char *)(obj) + at.field))

static int
offset_of(PyObject *type, const char *name, Py_ssize_t *offset)
{
    PyObject *d = PyDict_GetItemString(((PyTypeObject *)type)->tp_dict, name); /* borrowed */
    if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type)
        || ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not an object slot", ((PyTypeObject *)type)->tp_name, name);
        return -1;
    }
    *offset = ((PyMemberDescrObject *)d)->d_member->offset;
    return 0;
}

static void
keep(PyObject *arg, PyObject **into)
{
    Py_INCREF(arg);
    Py_XSETREF(*into, arg);
}

/* configure(Line, Message, Usage, Split, Block, UsageTuple, PromptTuple, fromisoformat, prompt,
 * Slow, SYNTHETIC, TOKEN_BITS): nothing is kept unless all of it is as expected. */
static PyObject *
configure(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    struct layout where;
    long bits;
    if (nargs != 12) {
        PyErr_SetString(PyExc_TypeError, "configure takes 12 arguments");
        return NULL;
    }
    for (int i = 0; i < 7; i++)
        if (!PyType_Check(args[i])) {
            PyErr_SetString(PyExc_TypeError, "configure: expected a class");
            return NULL;
        }
    if (!PyType_IsSubtype((PyTypeObject *)args[5], &PyTuple_Type)
        || !PyType_IsSubtype((PyTypeObject *)args[6], &PyTuple_Type) || !PyUnicode_CheckExact(args[10])) {
        PyErr_SetString(PyExc_TypeError, "configure: Usage and Prompt must be tuples, SYNTHETIC a str");
        return NULL;
    }
    bits = PyLong_AsLong(args[11]);
    if (bits == -1 && PyErr_Occurred())
        return NULL;
    if (bits < 1 || bits > 62) {
        PyErr_SetString(PyExc_TypeError, "configure: TOKEN_BITS out of range");
        return NULL;
    }
    if (offset_of(args[0], "type", &where.l_type) || offset_of(args[0], "timestamp", &where.l_timestamp)
        || offset_of(args[0], "requestId", &where.l_request_id)
        || offset_of(args[0], "sessionId", &where.l_session_id) || offset_of(args[0], "cwd", &where.l_cwd)
        || offset_of(args[0], "isSidechain", &where.l_sidechain) || offset_of(args[0], "isMeta", &where.l_meta)
        || offset_of(args[0], "message", &where.l_message) || offset_of(args[1], "id", &where.m_id)
        || offset_of(args[1], "model", &where.m_model) || offset_of(args[1], "role", &where.m_role)
        || offset_of(args[1], "usage", &where.m_usage) || offset_of(args[1], "content", &where.m_content)
        || offset_of(args[2], "input_tokens", &where.u_in) || offset_of(args[2], "output_tokens", &where.u_out)
        || offset_of(args[2], "cache_creation_input_tokens", &where.u_created)
        || offset_of(args[2], "cache_read_input_tokens", &where.u_read)
        || offset_of(args[2], "cache_creation", &where.u_split)
        || offset_of(args[3], "ephemeral_5m_input_tokens", &where.s_5m)
        || offset_of(args[3], "ephemeral_1h_input_tokens", &where.s_1h)
        || offset_of(args[4], "type", &where.b_type))
        return NULL;
    keep(args[0], (PyObject **)&line_t);
    keep(args[1], (PyObject **)&message_t);
    keep(args[2], (PyObject **)&usage_t);
    keep(args[3], (PyObject **)&split_t);
    keep(args[4], (PyObject **)&block_t);
    keep(args[5], (PyObject **)&usage_tuple);
    keep(args[6], (PyObject **)&prompt_tuple);
    keep(args[7], &fromisoformat);
    keep(args[8], &prompt_of);
    keep(args[9], &slow);
    keep(args[10], &synthetic);
    token_limit = 1LL << bits;
    at = where;
    ready = 1;
    Py_RETURN_NONE;
}

/* type(v) is int and 0 <= v < 2**40, as lines.counted has it. */
static int
counted(PyObject *v)
{
    int overflow;
    long long n;
    if (!PyLong_CheckExact(v))
        return 0;
    n = PyLong_AsLongLongAndOverflow(v, &overflow);
    return !overflow && n >= 0 && n < token_limit;
}

static int
digits(const char *p, int n)
{
    for (int i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

/* Whether `v` is a timestamp in the form lines._TIMESTAMP matches. */
static int
timestamp_form(PyObject *v)
{
    Py_ssize_t n, i = 19;
    const char *p;
    if (!PyUnicode_Check(v) || !PyUnicode_IS_ASCII(v))
        return 0;
    n = PyUnicode_GET_LENGTH(v);
    p = (const char *)PyUnicode_DATA(v);
    if (n != 20 && n != 24 && n != 25 && n != 29)
        return 0;
    if (!(digits(p, 4) && p[4] == '-' && digits(p + 5, 2) && p[7] == '-' && digits(p + 8, 2) && p[10] == 'T'
          && digits(p + 11, 2) && p[13] == ':' && digits(p + 14, 2) && p[16] == ':' && digits(p + 17, 2)))
        return 0;
    if (n == 24 || n == 29) {
        if (p[19] != '.' || !digits(p + 20, 3))
            return 0;
        i = 23;
    }
    if (n - i == 1)
        return p[i] == 'Z';
    return (p[i] == '+' || p[i] == '-') && digits(p + i + 1, 2) && p[i + 3] == ':' && digits(p + i + 4, 2);
}

/* lines.timestamp: a new reference, or NULL with ValueError set when malformed. */
static PyObject *
timestamp(PyObject *v)
{
    if (!timestamp_form(v)) {
        PyErr_SetString(PyExc_ValueError, "timestamp");
        return NULL;
    }
    return PyObject_CallOneArg(fromisoformat, v);
}

static int
add_to(PyObject *progress, PyObject *name, Py_ssize_t n)
{
    PyObject *had, *sum, *more;
    int failed;
    if (n == 0)
        return 0;
    had = PyObject_GetAttr(progress, name);
    if (had == NULL)
        return -1;
    more = PyLong_FromSsize_t(n);
    sum = more ? PyNumber_Add(had, more) : NULL;
    Py_DECREF(had);
    Py_XDECREF(more);
    if (sum == NULL)
        return -1;
    failed = PyObject_SetAttr(progress, name, sum);
    Py_DECREF(sum);
    return failed;
}

static PyObject *
new_tuple(PyTypeObject *type, PyObject **items, Py_ssize_t n)
{
    PyObject *t = type->tp_alloc(type, n);
    if (t == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_INCREF(items[i]);
        PyTuple_SET_ITEM(t, i, items[i]);
    }
    return t;
}

/* 1 if obj's message is a usage line to count, 0 to skip, -1 on error; -2 for _Slow. */
static int
usage_entry(PyObject *obj, PyObject *message, PyObject *usage, PyObject **last, PyObject *out,
            Py_ssize_t *repeats, Py_ssize_t *malformed)
{
    PyObject *rid = SLOT(obj, l_request_id), *model = SLOT(message, m_model), *id = SLOT(message, m_id);
    PyObject *n_in = SLOT(usage, u_in), *n_out = SLOT(usage, u_out), *created = SLOT(usage, u_created);
    PyObject *read = SLOT(usage, u_read), *split = SLOT(usage, u_split), *w5, *w1, *ts, *key, *entry;
    PyObject *session = SLOT(obj, l_session_id), *project = SLOT(obj, l_cwd), *side = SLOT(obj, l_sidechain);
    PyObject *items[11];
    int truth, same;
    if (!rid || !model || !id || !n_in || !n_out || !created || !read || !split || !session || !project || !side)
        return -2;
    truth = PyObject_IsTrue(rid);
    if (truth < 0)
        return -1;
    if (truth) {
        same = PyObject_RichCompareBool(rid, *last, Py_EQ);
        if (same < 0)
            return -1;
        if (same) {
            ++*repeats;
            return 0;
        }
    }
    if (!(PyUnicode_CheckExact(model) && PyUnicode_GET_LENGTH(model) && counted(n_in) && counted(n_out)
          && counted(created) && counted(read) && PyUnicode_CheckExact(id) && PyUnicode_CheckExact(rid))) {
        ++*malformed;
        return 0;
    }
    if (split == Py_None) {
        w5 = created;
        w1 = zero;
    }
    else if (Py_IS_TYPE(split, split_t)) {
        w5 = SLOT(split, s_5m);
        w1 = SLOT(split, s_1h);
        if (!w5 || !w1)
            return -2;
        if (!(counted(w5) && counted(w1))) {
            ++*malformed;
            return 0;
        }
    }
    else
        return -2;
    ts = timestamp(SLOT(obj, l_timestamp));
    if (ts == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_ValueError))
            return -1;
        PyErr_Clear();
        ++*malformed;
        return 0;
    }
    Py_INCREF(PyUnicode_GET_LENGTH(rid) ? rid : s_empty);
    Py_SETREF(*last, PyUnicode_GET_LENGTH(rid) ? rid : s_empty);
    same = PyUnicode_Compare(model, synthetic);
    if (same == -1 && PyErr_Occurred()) {
        Py_DECREF(ts);
        return -1;
    }
    if (same == 0 || !PyUnicode_GET_LENGTH(id)) {
        Py_DECREF(ts);
        return same == 0 ? 0 : -2; /* no id of its own: the slow path keys it by offset */
    }
    key = PyUnicode_FromFormat("%U:%U", id, rid);
    if (key == NULL) {
        Py_DECREF(ts);
        return -1;
    }
    items[0] = key;
    items[1] = ts;
    items[2] = PyUnicode_CheckExact(session) ? session : Py_None;
    items[3] = PyUnicode_CheckExact(project) ? project : Py_None;
    items[4] = model;
    items[5] = side == Py_True ? Py_True : Py_False;
    items[6] = n_in;
    items[7] = n_out;
    items[8] = w5;
    items[9] = w1;
    items[10] = read;
    entry = new_tuple(usage_tuple, items, 11);
    Py_DECREF(key);
    Py_DECREF(ts);
    if (entry == NULL || PyList_Append(out, entry) < 0) {
        Py_XDECREF(entry);
        return -1;
    }
    Py_DECREF(entry);
    return 1;
}

/* obj.type == "user" and not obj.isMeta and message.role == "user", and its content not a
 * list holding a tool result: then decoded.prompt decides (few lines get this far). */
static int
prompt_entry(PyObject *obj, PyObject *message, PyObject *out)
{
    PyObject *type = SLOT(obj, l_type), *meta = SLOT(obj, l_meta), *role = SLOT(message, m_role);
    PyObject *content = SLOT(message, m_content), *prompt;
    int yes;
    if (!type || !meta || !role || !content)
        return -2;
    yes = PyObject_RichCompareBool(type, s_user, Py_EQ);
    if (yes <= 0)
        return yes;
    yes = PyObject_IsTrue(meta);
    if (yes != 0)
        return yes < 0 ? -1 : 0;
    yes = PyObject_RichCompareBool(role, s_user, Py_EQ);
    if (yes <= 0)
        return yes;
    if (PyList_CheckExact(content)) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(content); i++) {
            PyObject *block = PyList_GET_ITEM(content, i), *kind;
            if (!Py_IS_TYPE(block, block_t) || (kind = SLOT(block, b_type)) == NULL)
                return -2;
            yes = PyObject_RichCompareBool(kind, s_tool_result, Py_EQ);
            if (yes != 0)
                return yes < 0 ? -1 : 0; /* a tool result: not a prompt */
        }
    }
    prompt = PyObject_CallOneArg(prompt_of, obj);
    if (prompt == NULL)
        return -1;
    yes = prompt == Py_None ? 0 : PyList_Append(out, prompt) < 0 ? -1 : 1;
    Py_DECREF(prompt);
    return yes;
}

static PyObject *
entries(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *lines, *previous, *progress, *out, *last;
    Py_ssize_t repeats = 0, malformed = 0;
    int got = 0;
    if (nargs != 3 || !PyList_CheckExact(args[0]) || !PyList_CheckExact(args[1]) || PyList_GET_SIZE(args[1]) != 1) {
        PyErr_SetString(PyExc_TypeError, "entries(lines: list, previous: [str], progress)");
        return NULL;
    }
    if (!ready) {
        PyErr_SetString(PyExc_RuntimeError, "configure() first");
        return NULL;
    }
    lines = args[0];
    previous = args[1];
    progress = args[2];
    out = PyList_New(0);
    if (out == NULL)
        return NULL;
    last = PyList_GET_ITEM(previous, 0);
    Py_INCREF(last);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lines) && got >= 0; i++) {
        PyObject *obj = PyList_GET_ITEM(lines, i), *message, *usage;
        if (!Py_IS_TYPE(obj, line_t) || (message = SLOT(obj, l_message)) == NULL) {
            got = -2;
            break;
        }
        if (message == Py_None)
            continue;
        if (!Py_IS_TYPE(message, message_t) || (usage = SLOT(message, m_usage)) == NULL) {
            got = -2;
            break;
        }
        if (usage != Py_None)
            got = Py_IS_TYPE(usage, usage_t)
                      ? usage_entry(obj, message, usage, &last, out, &repeats, &malformed)
                      : -2;
        else
            got = prompt_entry(obj, message, out);
    }
    if (got == -2) { /* the block takes the line-by-line path */
        PyObject *fault = PyObject_CallNoArgs(slow);
        if (fault != NULL) {
            PyErr_SetObject(slow, fault);
            Py_DECREF(fault);
        }
    }
    if (got < 0) { /* the counts of the lines before the fault are added all the same, as in Python */
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback);
        if (add_to(progress, s_repeats, repeats) < 0 || add_to(progress, s_malformed, malformed) < 0) {
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(traceback);
        }
        else
            PyErr_Restore(type, value, traceback);
    }
    if (got < 0 || add_to(progress, s_repeats, repeats) < 0 || add_to(progress, s_malformed, malformed) < 0) {
        Py_DECREF(out);
        Py_DECREF(last);
        return NULL;
    }
    if (PyList_SetItem(previous, 0, last) < 0) { /* steals last */
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* decoded.py_gap: where the first line break other than "}\n{" (or "}\r\n{") is, or -1,
 * and the number of newlines up to it. */
static PyObject *
gap(PyObject *module, PyObject *arg)
{
    const char *b, *p;
    Py_ssize_t n, i, lines = 0;
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "gap(block: bytes)");
        return NULL;
    }
    b = PyBytes_AS_STRING(arg);
    n = PyBytes_GET_SIZE(arg);
    for (p = memchr(b, '\n', n); p != NULL; p = memchr(p + 1, '\n', n - i - 1)) {
        i = p - b;
        lines++;
        if (i) {
            if (b[i - 1] == '\r') {
                if (i >= 2 && b[i - 2] != '}')
                    return Py_BuildValue("nn", i, lines);
            }
            else if (b[i - 1] != '}')
                return Py_BuildValue("nn", i, lines);
        }
        if (i < n - 1 && b[i + 1] != '{')
            return Py_BuildValue("nn", i, lines);
    }
    return Py_BuildValue("nn", (Py_ssize_t)-1, lines);
}

static PyMethodDef methods[] = {
    {"configure", (PyCFunction)(void (*)(void))configure, METH_FASTCALL, NULL},
    {"entries", (PyCFunction)(void (*)(void))entries, METH_FASTCALL, NULL},
    {"gap", gap, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    s_user = PyUnicode_InternFromString("user");
    s_tool_result = PyUnicode_InternFromString("tool_result");
    s_empty = PyUnicode_InternFromString("");
    s_repeats = PyUnicode_InternFromString("repeats");
    s_malformed = PyUnicode_InternFromString("malformed");
    zero = PyLong_FromLong(0);
    if (!s_user || !s_tool_result || !s_empty || !s_repeats || !s_malformed || !zero)
        return NULL;
    return PyModule_Create(&module);
}
