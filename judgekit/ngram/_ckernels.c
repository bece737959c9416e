/*
 * judgekit._ckernels: the integer statistics behind BLEU, ROUGE-1/2/L and
 * Distinct-n, and the per-item BLEU float arithmetic, in C.
 *
 * Why C: after segmentation, counting n-grams in Python (Counter of tuples,
 * clipped overlaps, LCS on big integers, a Python loop per sentence score)
 * is most of the cost of ``judgekit.evaluate``.  Every function here is the
 * compiled twin of a pure-Python function in judgekit/ngram/_stats.py or
 * bleu.py, which stays the fallback and the oracle: results are equal bit
 * for bit (tests/test_kernels.py).
 *
 * How:
 *  - tokens are interned to ids 1..V with a dict keyed by the token objects,
 *    so token equality is exactly Python's (what Counter uses);
 *  - an n-gram (n <= 4) is packed exactly into 128 bits (four 32-bit ids),
 *    so no n-gram is ever confused with another;
 *  - per item, one open-addressing table holds the hypothesis n-grams; each
 *    reference is streamed through it with a per-reference stamp, which
 *    gives clipped counts, the maximum count over references (BLEU
 *    clipping), distinct counts and set overlaps in one pass;
 *  - LCS is bit-parallel (Allison-Dix / Hyyro: V' = (V + (V & M)) |
 *    (V & ~M)) over 64-bit words, processed one word column at a time with
 *    a carry per position of the longer sequence, so memory is O(V + n)
 *    whatever the lengths;
 *  - sentence BLEU replays nltk (num/den, 1/(2**k*den), log, math.fsum,
 *    exp, bp*) and sacreBLEU (percent precisions, Python's sum(), /eff,
 *    exp) operation by operation; math.fsum is ported from CPython and
 *    sum() follows the running interpreter (plain left-to-right before
 *    3.12, Neumaier compensation from 3.12).  Floating-point contraction
 *    (fused multiply-add) would change last bits, so it is turned off.
 *
 * Inputs the kernels do not cover (max order above 4, items without
 * references, non-sequences, integers beyond 2**53) make a function return
 * NotImplemented, and the Python wrapper runs the pure-Python code, which
 * gives the same result or raises the same error.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(_MSC_VER)
#pragma fp_contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#define MAX_N 4
#define EXACT_INT_MAX ((int64_t)1 << 53)

/* ------------------------------------------------------------------ */
/* popcount                                                             */
/* ------------------------------------------------------------------ */
static inline int popcount64(uint64_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_popcountll(x);
#else
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (int)((x * 0x0101010101010101ull) >> 56);
#endif
}

/* ------------------------------------------------------------------ */
/* Token encoding                                                       */
/* ------------------------------------------------------------------ */
/* Exact-str tokens (the common case) are interned in a table keyed by
 * their characters: CPython strings are canonical (the same text always has
 * the same kind and code units), so equal content is exactly Python's
 * ``==`` on str, and no siphash or dict lookup is needed.  Any other token
 * type sends the whole corpus through a dict keyed by the token objects
 * (Counter's own semantics: 1 == 1.0 == True, custom __eq__/__hash__). */

/* A str table entry: text of up to 8 bytes is stored in the entry itself
 * (compared without touching the token objects, which are cache misses);
 * longer text is stored as its hash and compared against the
 * representative object. */
typedef struct {
    uint64_t w;    /* the text bytes (zero-padded), or the hash if longer */
    uint32_t id;   /* 0 = empty */
    uint32_t meta; /* nbytes << 3 | kind (1, 2, 4) */
} StrEnt;

typedef struct {
    int use_dict;      /* 0: exact-str table; 1: dict */
    PyObject *vocab;   /* dict mode: token -> id (1-based PyLong) */
    StrEnt *st;        /* str mode: open addressing */
    size_t st_cap;
    PyObject **objs;   /* id -> representative token (strong refs); objs[0] unused */
    size_t nobj, objcap;
    uint32_t *tok;     /* all token ids, sequence after sequence */
    size_t ntok, captok;
    Py_ssize_t *off;   /* sequence s is tok[off[s] .. off[s+1]) */
    size_t nseq, capseq;
    Py_ssize_t maxlen;
} Enc;

static int enc_init(Enc *e, int use_dict)
{
    memset(e, 0, sizeof(*e));
    e->use_dict = use_dict;
    if (use_dict) {
        e->vocab = PyDict_New();
        if (!e->vocab)
            return -1;
    }
    e->capseq = 64;
    e->off = (Py_ssize_t *)malloc(e->capseq * sizeof(Py_ssize_t));
    e->captok = 1024;
    e->tok = (uint32_t *)malloc(e->captok * sizeof(uint32_t));
    e->objcap = 256;
    e->objs = (PyObject **)malloc(e->objcap * sizeof(PyObject *));
    if (!use_dict) {
        e->st_cap = 1024;
        e->st = (StrEnt *)calloc(e->st_cap, sizeof(StrEnt));
    }
    if (!e->off || !e->tok || !e->objs || (!use_dict && !e->st)) {
        PyErr_NoMemory();
        return -1;
    }
    e->off[0] = 0;
    e->objs[0] = NULL;
    e->nobj = 1;
    return 0;
}

static void enc_free(Enc *e)
{
    Py_CLEAR(e->vocab);
    if (e->objs)
        for (size_t k = 1; k < e->nobj; k++)
            Py_DECREF(e->objs[k]);
    free(e->objs);
    free(e->st);
    free(e->tok);
    free(e->off);
    e->objs = NULL;
    e->st = NULL;
    e->tok = NULL;
    e->off = NULL;
    e->nobj = 0;
}

static size_t enc_vocab_size(const Enc *e) { return e->nobj - 1; }

/* A new id for ``t``: 0 on error. */
static uint32_t enc_new_id(Enc *e, PyObject *t)
{
    if (e->nobj >= 0xFFFFFFFEu) {
        PyErr_SetString(PyExc_OverflowError, "vocabulary too large");
        return 0;
    }
    if (e->nobj == e->objcap) {
        PyObject **o = (PyObject **)realloc(e->objs, 2 * e->objcap * sizeof(PyObject *));
        if (!o) {
            PyErr_NoMemory();
            return 0;
        }
        e->objs = o;
        e->objcap *= 2;
    }
    Py_INCREF(t);
    e->objs[e->nobj] = t;
    return (uint32_t)e->nobj++;
}

static inline uint64_t str_hash(const unsigned char *p, size_t nbytes, int kind)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)nbytes * 0xFF51AFD7ED558CCDull) ^ (uint64_t)kind;
    while (nbytes >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = (h ^ v) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 29;
        p += 8;
        nbytes -= 8;
    }
    uint64_t v = 0;
    memcpy(&v, p, nbytes);
    h = (h ^ v) * 0x94D049BB133111EBull;
    h ^= h >> 32;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return h;
}


static inline size_t st_slot(uint64_t h, size_t mask) { return (size_t)(h ^ (h >> 17)) & mask; }

static inline void st_key(PyObject *t, uint64_t *w, uint32_t *meta, uint64_t *h)
{
    int kind = PyUnicode_KIND(t);
    size_t nbytes = (size_t)PyUnicode_GET_LENGTH(t) * (size_t)kind;
    const unsigned char *data = (const unsigned char *)PyUnicode_DATA(t);
    *h = str_hash(data, nbytes, kind);
    *meta = (uint32_t)(nbytes << 3) | (uint32_t)kind;
    if (nbytes <= 8) {
        uint64_t v = 0;
        memcpy(&v, data, nbytes);
        *w = v;
    } else {
        *w = *h;
    }
}

static int st_grow(Enc *e)
{
    size_t ncap = e->st_cap * 2;
    StrEnt *nt = (StrEnt *)calloc(ncap, sizeof(StrEnt));
    if (!nt) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t k = 0; k < e->st_cap; k++) {
        if (!e->st[k].id)
            continue;
        uint64_t w, h;
        uint32_t meta;
        st_key(e->objs[e->st[k].id], &w, &meta, &h);
        size_t j = st_slot(h, ncap - 1);
        while (nt[j].id)
            j = (j + 1) & (ncap - 1);
        nt[j] = e->st[k];
    }
    free(e->st);
    e->st = nt;
    e->st_cap = ncap;
    return 0;
}

/* id of an exact str (0 on error) */
static inline uint32_t st_id(Enc *e, PyObject *t)
{
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(t) < 0)
        return 0;
#endif
    uint64_t w, h;
    uint32_t meta;
    st_key(t, &w, &meta, &h);
    int is_short = (meta >> 3) <= 8;
    size_t mask = e->st_cap - 1;
    size_t j = st_slot(h, mask);
    for (;;) {
        StrEnt *en = &e->st[j];
        if (!en->id)
            break;
        if (en->w == w && en->meta == meta) {
            if (is_short)
                return en->id;
            PyObject *o = e->objs[en->id];
            if (o == t || memcmp(PyUnicode_DATA(o), PyUnicode_DATA(t), (size_t)(meta >> 3)) == 0)
                return en->id;
        }
        j = (j + 1) & mask;
    }
    uint32_t id = enc_new_id(e, t);
    if (!id)
        return 0;
    e->st[j].w = w;
    e->st[j].meta = meta;
    e->st[j].id = id;
    if ((e->nobj - 1) * 2 > e->st_cap && st_grow(e) < 0)
        return 0;
    return id;
}

/* id through the dict (0 on error) */
static uint32_t dict_id(Enc *e, PyObject *t)
{
    PyObject *v = PyDict_GetItemWithError(e->vocab, t);
    if (v)
        return (uint32_t)PyLong_AsUnsignedLong(v);
    if (PyErr_Occurred())
        return 0;
    uint32_t id = enc_new_id(e, t);
    if (!id)
        return 0;
    v = PyLong_FromUnsignedLong(id);
    if (!v || PyDict_SetItem(e->vocab, t, v) < 0) {
        Py_XDECREF(v);
        return 0;
    }
    Py_DECREF(v);
    return id;
}

/* Whether ``obj`` may be read as a sequence without consuming it. */
static int is_sequence(PyObject *obj)
{
    return PyList_Check(obj) || PyTuple_Check(obj) || PySequence_Check(obj);
}

#define ENC_RESTART (-2)

/* Append one token sequence.  0 ok, -1 error (a Python error is set),
 * ENC_RESTART: a token that is not an exact str met the str table. */
static int enc_add(Enc *e, PyObject *seq)
{
    if (!is_sequence(seq)) {
        PyErr_SetString(PyExc_TypeError, "not a sequence");
        return -1;
    }
    PyObject *fast = PySequence_Fast(seq, "not a sequence");
    if (!fast)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    PyObject **items = PySequence_Fast_ITEMS(fast);
    int rc = 0;
    if (e->ntok + (size_t)n > e->captok) {
        size_t cap = e->captok;
        while (cap < e->ntok + (size_t)n)
            cap *= 2;
        uint32_t *t = (uint32_t *)realloc(e->tok, cap * sizeof(uint32_t));
        if (!t) {
            PyErr_NoMemory();
            rc = -1;
            goto out;
        }
        e->tok = t;
        e->captok = cap;
    }
    if (e->nseq + 2 > e->capseq) {
        size_t cap = e->capseq * 2;
        Py_ssize_t *o = (Py_ssize_t *)realloc(e->off, cap * sizeof(Py_ssize_t));
        if (!o) {
            PyErr_NoMemory();
            rc = -1;
            goto out;
        }
        e->off = o;
        e->capseq = cap;
    }
    uint32_t *dst = e->tok + e->ntok;
    if (e->use_dict) {
        for (Py_ssize_t k = 0; k < n; k++)
            if (!(dst[k] = dict_id(e, items[k]))) {
                rc = -1;
                goto out;
            }
    } else {
        for (Py_ssize_t k = 0; k < n; k++) {
#if defined(__GNUC__) || defined(__clang__)
            if (k + 6 < n) /* fresh token objects are cache misses: ask early */
                __builtin_prefetch(items[k + 6]);
#endif
            if (!PyUnicode_CheckExact(items[k])) {
                rc = ENC_RESTART;
                goto out;
            }
            if (!(dst[k] = st_id(e, items[k]))) {
                rc = -1;
                goto out;
            }
        }
    }
    e->ntok += (size_t)n;
    e->nseq += 1;
    e->off[e->nseq] = (Py_ssize_t)e->ntok;
    if (n > e->maxlen)
        e->maxlen = n;
out:
    Py_DECREF(fast);
    return rc;
}

/* Encode ``hyps`` (n sequences) then, for each item, its references.
 * ref_start[i] .. ref_start[i+1] are the sequence numbers of item i's
 * references.  Returns 0, -1 with a Python error set, or ENC_RESTART. */
static int enc_corpus_once(Enc *e, PyObject *hyps, PyObject *refs, Py_ssize_t *n_out, Py_ssize_t **ref_start_out)
{
    int rc;
    *ref_start_out = NULL;
    if (!is_sequence(hyps) || (refs && !is_sequence(refs))) {
        PyErr_SetString(PyExc_TypeError, "not a sequence");
        return -1;
    }
    PyObject *fh = PySequence_Fast(hyps, "not a sequence");
    if (!fh)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fh);
    for (Py_ssize_t i = 0; i < n; i++) {
        if ((rc = enc_add(e, PySequence_Fast_GET_ITEM(fh, i))) < 0) {
            Py_DECREF(fh);
            return rc;
        }
    }
    Py_DECREF(fh);
    *n_out = n;
    if (!refs)
        return 0;
    PyObject *fr = PySequence_Fast(refs, "not a sequence");
    if (!fr)
        return -1;
    if (PySequence_Fast_GET_SIZE(fr) != n) {
        Py_DECREF(fr);
        PyErr_SetString(PyExc_ValueError, "hyps and refs differ in length");
        return -1;
    }
    Py_ssize_t *rs = (Py_ssize_t *)malloc((size_t)(n + 1) * sizeof(Py_ssize_t));
    if (!rs) {
        Py_DECREF(fr);
        PyErr_NoMemory();
        return -1;
    }
    rc = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        rs[i] = (Py_ssize_t)e->nseq;
        PyObject *item = PySequence_Fast_GET_ITEM(fr, i);
        if (!is_sequence(item)) {
            PyErr_SetString(PyExc_TypeError, "not a sequence");
            goto fail;
        }
        PyObject *fi = PySequence_Fast(item, "not a sequence");
        if (!fi)
            goto fail;
        Py_ssize_t m = PySequence_Fast_GET_SIZE(fi);
        for (Py_ssize_t j = 0; j < m; j++) {
            if ((rc = enc_add(e, PySequence_Fast_GET_ITEM(fi, j))) < 0) {
                Py_DECREF(fi);
                goto fail;
            }
        }
        rc = -1;
        Py_DECREF(fi);
    }
    rs[n] = (Py_ssize_t)e->nseq;
    Py_DECREF(fr);
    *ref_start_out = rs;
    return 0;
fail:
    free(rs);
    Py_DECREF(fr);
    return rc;
}

/* enc_corpus_once with the str table, redone with the dict if a token is
 * not an exact str. */
static int enc_corpus(Enc *e, PyObject *hyps, PyObject *refs, Py_ssize_t *n_out, Py_ssize_t **ref_start_out)
{
    int rc = enc_corpus_once(e, hyps, refs, n_out, ref_start_out);
    if (rc != ENC_RESTART)
        return rc;
    enc_free(e);
    if (enc_init(e, 1) < 0)
        return -1;
    return enc_corpus_once(e, hyps, refs, n_out, ref_start_out);
}

/* An encoded corpus, made once and shared by the statistics functions
 * (ids are what every kernel works on; interning is the costly part). */
typedef struct {
    PyObject_HEAD
    Enc e;
    Py_ssize_t n;      /* items (hypotheses) */
    Py_ssize_t *rs;    /* reference sequence ranges, NULL if none encoded */
    PyObject *owner;   /* from_ids: the bytes that e.tok points into (not malloc'd) */
} EncodingObject;

static void Encoding_dealloc(EncodingObject *self)
{
    free(self->rs);
    if (self->owner) {
        self->e.tok = NULL; /* borrowed from owner */
        Py_CLEAR(self->owner);
    }
    enc_free(&self->e);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject EncodingType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "judgekit._ckernels.Encoding",
    .tp_basicsize = sizeof(EncodingObject),
    .tp_dealloc = (destructor)Encoding_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "token ids of hypotheses (and references), from encode()",
};

static PyObject *fallback(void);

static PyObject *k_encode(PyObject *self, PyObject *args)
{
    PyObject *hyps, *refs = Py_None;
    if (!PyArg_ParseTuple(args, "O|O:encode", &hyps, &refs))
        return NULL;
    EncodingObject *obj = PyObject_New(EncodingObject, &EncodingType);
    if (!obj)
        return NULL;
    obj->rs = NULL;
    obj->n = 0;
    obj->owner = NULL;
    if (enc_init(&obj->e, 0) < 0) {
        Py_DECREF(obj);
        return NULL;
    }
    if (enc_corpus(&obj->e, hyps, refs == Py_None ? NULL : refs, &obj->n, &obj->rs) < 0) {
        Py_DECREF(obj);
        return fallback();
    }
    return (PyObject *)obj;
}

/* An Encoding from ids made elsewhere (judgekit._cjieba's encode_many),
 * checked so that no kernel can read out of bounds. */
static PyObject *k_from_ids(PyObject *self, PyObject *args)
{
    Py_buffer bt = {0}, bo = {0}, br = {0};
    PyObject *tok_obj, *vocab, *refs_obj = Py_None;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "O!y*O!n|O:from_ids", &PyBytes_Type, &tok_obj, &bo, &PyList_Type, &vocab, &n,
                          &refs_obj))
        return NULL;
    if (PyObject_GetBuffer(tok_obj, &bt, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&bo);
        return NULL;
    }
    EncodingObject *obj = NULL;
    PyObject *result = NULL;
    if (refs_obj != Py_None && PyObject_GetBuffer(refs_obj, &br, PyBUF_SIMPLE) < 0)
        goto out;
    if (bt.len % 4 || bo.len % 8 || bo.len < 8 || (refs_obj != Py_None && br.len != (n + 1) * 8)) {
        PyErr_SetString(PyExc_ValueError, "from_ids: ids must be uint32, offsets int64 (one more than sequences), "
                                          "ref_start int64 (n + 1)");
        goto out;
    }
    size_t ntok = (size_t)bt.len / 4, nseq = (size_t)bo.len / 8 - 1;
    Py_ssize_t nv = PyList_GET_SIZE(vocab);
    const uint32_t *tok = (const uint32_t *)bt.buf;
    const int64_t *off = (const int64_t *)bo.buf;
    const int64_t *rs = refs_obj != Py_None ? (const int64_t *)br.buf : NULL;
    if (n < 0 || (size_t)n > nseq || off[0] != 0 || (size_t)off[nseq] != ntok) {
        PyErr_SetString(PyExc_ValueError, "from_ids: offsets do not cover the ids");
        goto out;
    }
    Py_ssize_t maxlen = 0;
    for (size_t s = 0; s < nseq; s++) {
        if (off[s + 1] < off[s]) {
            PyErr_SetString(PyExc_ValueError, "from_ids: offsets decrease");
            goto out;
        }
        if (off[s + 1] - off[s] > maxlen)
            maxlen = (Py_ssize_t)(off[s + 1] - off[s]);
    }
    for (size_t k = 0; k < ntok; k++) {
        if (tok[k] < 1 || (Py_ssize_t)tok[k] > nv) {
            PyErr_SetString(PyExc_ValueError, "from_ids: an id is outside the vocabulary");
            goto out;
        }
    }
    if (rs) {
        if (rs[0] != n || (size_t)rs[n] != nseq) {
            PyErr_SetString(PyExc_ValueError, "from_ids: ref_start must run from n to the number of sequences");
            goto out;
        }
        for (Py_ssize_t i = 0; i < n; i++)
            if (rs[i + 1] < rs[i]) {
                PyErr_SetString(PyExc_ValueError, "from_ids: ref_start decreases");
                goto out;
            }
    }
    for (Py_ssize_t k = 0; k < nv; k++)
        if (!PyUnicode_CheckExact(PyList_GET_ITEM(vocab, k))) {
            PyErr_SetString(PyExc_TypeError, "from_ids: the vocabulary must hold str");
            goto out;
        }
    obj = PyObject_New(EncodingObject, &EncodingType);
    if (!obj)
        goto out;
    memset(&obj->e, 0, sizeof(obj->e));
    obj->n = n;
    obj->rs = NULL;
    /* the ids are read in place: bytes are immutable, and kept alive here */
    obj->owner = Py_NewRef(tok_obj);
    Enc *e = &obj->e;
    e->tok = (uint32_t *)bt.buf;
    e->off = (Py_ssize_t *)malloc((nseq + 1) * sizeof(Py_ssize_t));
    e->objs = (PyObject **)malloc(((size_t)nv + 1) * sizeof(PyObject *));
    if (rs)
        obj->rs = (Py_ssize_t *)malloc(((size_t)n + 1) * sizeof(Py_ssize_t));
    if (!e->off || !e->objs || (rs && !obj->rs)) {
        Py_DECREF(obj);
        PyErr_NoMemory();
        goto out;
    }
    for (size_t s = 0; s <= nseq; s++)
        e->off[s] = (Py_ssize_t)off[s];
    if (rs)
        for (Py_ssize_t i = 0; i <= n; i++)
            obj->rs[i] = (Py_ssize_t)rs[i];
    e->objs[0] = NULL;
    for (Py_ssize_t k = 0; k < nv; k++)
        e->objs[k + 1] = Py_NewRef(PyList_GET_ITEM(vocab, k));
    e->nobj = (size_t)nv + 1;
    e->objcap = e->nobj;
    e->ntok = e->captok = ntok;
    e->nseq = e->capseq = nseq;
    e->maxlen = maxlen;
    result = (PyObject *)obj;
out:
    PyBuffer_Release(&bt);
    PyBuffer_Release(&bo);
    if (br.obj)
        PyBuffer_Release(&br);
    return result;
}

static EncodingObject *as_encoding(PyObject *o, int need_refs)
{
    if (!PyObject_TypeCheck(o, &EncodingType)) {
        PyErr_SetString(PyExc_TypeError, "expected an Encoding from encode()");
        return NULL;
    }
    EncodingObject *e = (EncodingObject *)o;
    if (need_refs && !e->rs) {
        PyErr_SetString(PyExc_TypeError, "this Encoding has no references");
        return NULL;
    }
    return e;
}

/* ------------------------------------------------------------------ */
/* Exact n-gram keys and tables                                         */
/* ------------------------------------------------------------------ */
/* n-gram of order n at t, packed exactly; ids are >= 1 so (0, 0) never
 * occurs and marks an empty slot. */
static inline void gram_key(const uint32_t *t, int n, uint64_t *a, uint64_t *b)
{
    switch (n) {
    case 1:
        *a = 0;
        *b = t[0];
        break;
    case 2:
        *a = 0;
        *b = ((uint64_t)t[0] << 32) | t[1];
        break;
    case 3:
        *a = t[0];
        *b = ((uint64_t)t[1] << 32) | t[2];
        break;
    default:
        *a = ((uint64_t)t[0] << 32) | t[1];
        *b = ((uint64_t)t[2] << 32) | t[3];
        break;
    }
}

static inline uint64_t hash_key(uint64_t a, uint64_t b)
{
    uint64_t h = a * 0x9E3779B97F4A7C15ull + b;
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBull;
    h ^= h >> 31;
    return h;
}

/* The counts of one n-gram of an item.  ``stamp`` names the reference
 * that ``cur`` belongs to, so ``cur`` restarts lazily for each reference. */
typedef struct {
    int32_t hc;     /* count in the hypothesis */
    int32_t cur;    /* count in the current reference */
    int32_t mx;     /* max count over the references seen so far */
    uint32_t stamp; /* reference that ``cur`` counts (0: none) */
} Counts;

typedef struct {
    uint64_t a, b;
    Counts c;
} Slot;

static inline void restamp(Counts *c, uint32_t stamp)
{
    if (c->stamp != stamp) {
        c->stamp = stamp;
        c->cur = 0;
    }
}

/* One occurrence of a hypothesis n-gram in a reference, for BLEU: the
 * clipped match count grows while the running count stays within both the
 * hypothesis count and the best count of earlier references, i.e. the sum
 * ends as sum_g min(hc_g, max_r count_r(g)). */
static inline void bleu_hit(Counts *c, uint32_t stamp, int64_t *matches)
{
    restamp(c, stamp);
    c->cur++;
    if (c->cur > c->mx) {
        if (c->mx < c->hc)
            (*matches)++;
        c->mx = c->cur;
    }
}

/* One reference n-gram, for ROUGE: distinct reference n-grams, n-grams
 * shared with the hypothesis (sets) and the clipped overlap. */
static inline void rouge_hit(Counts *c, uint32_t stamp, int64_t *rset, int64_t *sets, int64_t *clip)
{
    if (c->stamp != stamp) {
        c->stamp = stamp;
        c->cur = 0;
        (*rset)++;
        if (c->hc > 0)
            (*sets)++;
    }
    c->cur++;
    if (c->cur <= c->hc)
        (*clip)++;
}

/* A new stamp for the next reference; on wrap-around every stamp in
 * ``dir`` is forgotten. */
static inline uint32_t next_stamp(uint32_t *g, Counts *dir, size_t n)
{
    if (++*g == 0) {
        for (size_t k = 0; k < n; k++)
            dir[k].stamp = 0;
        *g = 1;
    }
    return *g;
}

typedef struct {
    Slot *s;
    size_t cap, mask;
} Table;

static int table_prepare(Table *t, size_t need)
{
    size_t want = 16;
    while (want < need * 2)
        want <<= 1;
    if (want > t->cap) {
        free(t->s);
        t->s = (Slot *)malloc(want * sizeof(Slot));
        if (!t->s) {
            t->cap = 0;
            return -1;
        }
        t->cap = want;
    }
    memset(t->s, 0, want * sizeof(Slot));
    t->mask = want - 1;
    return 0;
}

static inline Slot *table_insert(Table *t, uint64_t a, uint64_t b, int *isnew)
{
    size_t h = (size_t)hash_key(a, b) & t->mask;
    for (;;) {
        Slot *s = &t->s[h];
        if (s->a == a && s->b == b) {
            *isnew = 0;
            return s;
        }
        if (s->a == 0 && s->b == 0) {
            s->a = a;
            s->b = b;
            *isnew = 1;
            return s;
        }
        h = (h + 1) & t->mask;
    }
}

static inline Slot *table_find(const Table *t, uint64_t a, uint64_t b)
{
    size_t h = (size_t)hash_key(a, b) & t->mask;
    for (;;) {
        Slot *s = &t->s[h];
        if (s->a == a && s->b == b)
            return s;
        if (s->a == 0 && s->b == 0)
            return NULL;
        h = (h + 1) & t->mask;
    }
}

/* A growable set of keys (corpus-wide distinct n-grams). */
typedef struct {
    uint64_t *k; /* pairs a, b */
    size_t cap, count;
} KeySet;

static int keyset_grow(KeySet *s)
{
    size_t ncap = s->cap ? s->cap * 2 : 1024;
    uint64_t *nk = (uint64_t *)calloc(ncap * 2, sizeof(uint64_t));
    if (!nk)
        return -1;
    for (size_t i = 0; i < s->cap; i++) {
        uint64_t a = s->k[2 * i], b = s->k[2 * i + 1];
        if (a == 0 && b == 0)
            continue;
        size_t h = (size_t)hash_key(a, b) & (ncap - 1);
        while (nk[2 * h] != 0 || nk[2 * h + 1] != 0)
            h = (h + 1) & (ncap - 1);
        nk[2 * h] = a;
        nk[2 * h + 1] = b;
    }
    free(s->k);
    s->k = nk;
    s->cap = ncap;
    return 0;
}

/* 1 added, 0 present, -1 out of memory */
static int keyset_add(KeySet *s, uint64_t a, uint64_t b)
{
    if ((s->count + 1) * 2 > s->cap && keyset_grow(s) < 0)
        return -1;
    size_t m = s->cap - 1;
    size_t h = (size_t)hash_key(a, b) & m;
    for (;;) {
        uint64_t *p = s->k + 2 * h;
        if (p[0] == a && p[1] == b)
            return 0;
        if (p[0] == 0 && p[1] == 0) {
            p[0] = a;
            p[1] = b;
            s->count++;
            return 1;
        }
        h = (h + 1) & m;
    }
}

/* The same for 32-bit keys (bigrams of a vocabulary below 65535 ids,
 * packed as id1 * (V + 1) + id2, never 0): a quarter of the memory, which
 * matters because the set is the one large table of a corpus and fresh
 * pages cost more than the hashing. */
typedef struct {
    uint32_t *k;
    size_t cap, count;
} KeySet32;

static inline size_t hash32(uint32_t x, size_t mask)
{
    return (size_t)(((uint64_t)x * 0x9E3779B97F4A7C15ull) >> 29) & mask;
}

static int keyset32_grow(KeySet32 *s)
{
    size_t ncap = s->cap ? s->cap * 4 : 4096;
    uint32_t *nk = (uint32_t *)calloc(ncap, sizeof(uint32_t));
    if (!nk)
        return -1;
    for (size_t i = 0; i < s->cap; i++) {
        uint32_t x = s->k[i];
        if (!x)
            continue;
        size_t h = hash32(x, ncap - 1);
        while (nk[h])
            h = (h + 1) & (ncap - 1);
        nk[h] = x;
    }
    free(s->k);
    s->k = nk;
    s->cap = ncap;
    return 0;
}

/* 1 added, 0 present, -1 out of memory */
static inline int keyset32_add(KeySet32 *s, uint32_t x)
{
    if ((s->count + 1) * 2 > s->cap && keyset32_grow(s) < 0)
        return -1;
    size_t m = s->cap - 1, h = hash32(x, m);
    for (;;) {
        uint32_t y = s->k[h];
        if (y == x)
            return 0;
        if (!y) {
            s->k[h] = x;
            s->count++;
            return 1;
        }
        h = (h + 1) & m;
    }
}

/* ------------------------------------------------------------------ */
/* Ctrl-C                                                               */
/* ------------------------------------------------------------------ */
/* The kernels run without the GIL.  Every CHECK_EVERY units of work
 * (a token visited, a 64-bit LCS step: some milliseconds) they take it back
 * briefly to run the signal handlers, which Python runs in the main thread
 * only; a KeyboardInterrupt raised there sets g_stop, which the other
 * threads of the same call see at their next check and stop too.  A kernel
 * called from the main thread clears g_stop as it starts and ends (a caller
 * spreading work over threads sets it again with stop_threads(True) to stop
 * the others, and clears it once they are done).  Interrupted work returns
 * STOPPED with the exception set. */
#define CHECK_EVERY ((int64_t)1 << 24)
#define STOPPED (-2)
static volatile int g_stop = 0;
static unsigned long g_main_thread = 0;

static void stop_clear(void) /* GIL held */
{
    if (PyThread_get_thread_ident() == g_main_thread)
        g_stop = 0;
}

static int stop_check(void) /* GIL released on entry and on return; -1: an exception is set */
{
    PyGILState_STATE st = PyGILState_Ensure();
    int r = PyErr_CheckSignals();
    if (r < 0) {
        g_stop = 1;
    } else if (g_stop) {
        PyErr_SetNone(PyExc_KeyboardInterrupt);
        r = -1;
    }
    PyGILState_Release(st);
    return r;
}

static inline int stop_tick(int64_t *left, int64_t units)
{
    *left -= units;
    if (*left > 0)
        return 0;
    *left = CHECK_EVERY;
    return stop_check();
}

/* ------------------------------------------------------------------ */
/* LCS                                                                  */
/* ------------------------------------------------------------------ */
typedef struct {
    uint64_t *mw;    /* per token id: match bits within the current word */
    uint8_t *carry;  /* per position of the longer sequence */
    size_t nvocab, ncarry;
    int64_t left;    /* work until the next Ctrl-C check */
} LcsWork;

static int lcs_work_init(LcsWork *w, size_t vocab, size_t maxlen)
{
    w->nvocab = vocab + 1;
    w->ncarry = maxlen + 1;
    w->left = CHECK_EVERY;
    w->mw = (uint64_t *)calloc(w->nvocab, sizeof(uint64_t));
    w->carry = (uint8_t *)malloc(w->ncarry);
    return (w->mw && w->carry) ? 0 : -1;
}

static void lcs_work_free(LcsWork *w)
{
    free(w->mw);
    free(w->carry);
    w->mw = NULL;
    w->carry = NULL;
}

static int64_t lcs_ids(const uint32_t *x, Py_ssize_t nx, const uint32_t *y, Py_ssize_t ny, LcsWork *w)
{
    if (nx > ny) { /* x: the shorter one, whose positions are the bits */
        const uint32_t *t = x;
        x = y;
        y = t;
        Py_ssize_t tn = nx;
        nx = ny;
        ny = tn;
    }
    if (nx == 0)
        return 0;
    uint64_t *mw = w->mw;
    int64_t lcs = 0;
    if (nx <= 64) {
        uint64_t full = nx == 64 ? ~(uint64_t)0 : (((uint64_t)1 << nx) - 1);
        for (Py_ssize_t p = 0; p < nx; p++)
            mw[x[p]] |= (uint64_t)1 << p;
        uint64_t v = full;
        for (Py_ssize_t j = 0; j < ny; j++) {
            uint64_t m = mw[y[j]];
            uint64_t u = v & m;
            v = ((v + u) | (v & ~m)) & full;
        }
        for (Py_ssize_t p = 0; p < nx; p++)
            mw[x[p]] = 0;
        if (stop_tick(&w->left, ny) < 0)
            return STOPPED;
        return nx - popcount64(v);
    }
    uint8_t *carry = w->carry;
    memset(carry, 0, (size_t)ny);
    for (Py_ssize_t base = 0; base < nx; base += 64) {
        Py_ssize_t cnt = nx - base < 64 ? nx - base : 64;
        uint64_t full = cnt == 64 ? ~(uint64_t)0 : (((uint64_t)1 << cnt) - 1);
        for (Py_ssize_t p = 0; p < cnt; p++)
            mw[x[base + p]] |= (uint64_t)1 << p;
        uint64_t v = full;
        for (Py_ssize_t j = 0; j < ny; j++) {
            uint64_t m = mw[y[j]];
            uint64_t u = v & m;
            uint64_t s = v + u;
            uint64_t c = s < v;
            uint64_t s2 = s + carry[j];
            c |= s2 < s;
            carry[j] = (uint8_t)c;
            v = (s2 | (v & ~m)) & full;
        }
        for (Py_ssize_t p = 0; p < cnt; p++)
            mw[x[base + p]] = 0;
        lcs += cnt - popcount64(v);
        if (stop_tick(&w->left, ny) < 0)
            return STOPPED;
    }
    return lcs;
}

/* ------------------------------------------------------------------ */
/* Buffers                                                              */
/* ------------------------------------------------------------------ */
static int check_buf(Py_buffer *b, Py_ssize_t n_items, const char *what)
{
    if (b->len != n_items * 8 || b->itemsize != 8 || !PyBuffer_IsContiguous(b, 'C')) {
        PyErr_Format(PyExc_ValueError, "%s: expected a C-contiguous buffer of %zd 8-byte items", what, n_items);
        return -1;
    }
    return 0;
}

static PyObject *fallback(void)
{
    PyErr_Clear();
    Py_RETURN_NOTIMPLEMENTED;
}

/* ------------------------------------------------------------------ */
/* bleu_stats                                                           */
/* ------------------------------------------------------------------ */
/* Grow a scratch buffer to at least ``n`` elements of ``size`` bytes. */
static int scratch(void **buf, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap : 256;
    while (c < n)
        c *= 2;
    void *p = realloc(*buf, c * size);
    if (!p)
        return -1;
    *buf = p;
    *cap = c;
    return 0;
}

#define NO_SLOT ((uint32_t)0xFFFFFFFFu)

/* Per item and order: the hypothesis n-grams go into the table, each
 * reference is streamed through it.  An n-gram can occur in both only if
 * its two (n-1)-grams do, so positions whose (n-1)-grams found no partner
 * at the previous order are skipped (``halive``/``ralive``): the counts are
 * the same, the work on unrelated texts is mostly order 1. */
static int bleu_compute(const Enc *e, Py_ssize_t lo, Py_ssize_t hi, const Py_ssize_t *rs, int N, int64_t *matches,
                        int64_t *totals, int64_t *hyp_len, int64_t *ref_len)
{
    Table t = {NULL, 0, 0};
    uint32_t *hslot = NULL;
    uint8_t *halive = NULL, *ralive = NULL;
    size_t cap_h = 0, cap_h2 = 0, cap_r = 0;
    int rc = 0;
    uint32_t gstamp = 0;
    int64_t left = CHECK_EVERY;
    Counts *dir = (Counts *)calloc(enc_vocab_size(e) + 1, sizeof(Counts)); /* order 1: indexed by token id */
    if (!dir)
        return -1;
    for (Py_ssize_t i = lo; i < hi; i++) {
        const uint32_t *h = e->tok + e->off[i];
        Py_ssize_t H = e->off[i + 1] - e->off[i];
        if (stop_tick(&left, (int64_t)N * (H + e->off[rs[i + 1]] - e->off[rs[i]]) + 1) < 0) {
            rc = STOPPED;
            goto done;
        }
        hyp_len[i] = H;
        Py_ssize_t best = -1, bestd = 0;
        for (Py_ssize_t s = rs[i]; s < rs[i + 1]; s++) {
            Py_ssize_t L = e->off[s + 1] - e->off[s];
            Py_ssize_t d = L > H ? L - H : H - L;
            if (best < 0 || d < bestd || (d == bestd && L < best)) {
                best = L;
                bestd = d;
            }
        }
        ref_len[i] = best;
        /* the item's references are contiguous in e->tok */
        Py_ssize_t rbase = e->off[rs[i]], rtot = e->off[rs[i + 1]] - rbase;
        if (scratch((void **)&hslot, &cap_h, (size_t)H + 1, sizeof(uint32_t)) < 0 ||
            scratch((void **)&halive, &cap_h2, (size_t)H + 1, 1) < 0 ||
            scratch((void **)&ralive, &cap_r, (size_t)rtot + 1, 1) < 0) {
            rc = -1;
            goto done;
        }
        int dead = 0;
        for (int n1 = 1; n1 <= N; n1++) {
            int64_t *mt = matches + i * N + (n1 - 1);
            int64_t *tt = totals + i * N + (n1 - 1);
            Py_ssize_t G = H - n1 + 1;
            *mt = 0;
            *tt = 0;
            if (G <= 0)
                continue;
            *tt = G;
            if (dead) /* no (n-1)-gram matched: no n-gram can */
                continue;
            if (n1 == 1) {
                for (Py_ssize_t p = 0; p < H; p++)
                    dir[h[p]].hc++;
                int64_t m = 0;
                for (Py_ssize_t s = rs[i]; s < rs[i + 1]; s++) {
                    const uint32_t *r = e->tok + e->off[s];
                    uint8_t *ra = ralive + (e->off[s] - rbase);
                    Py_ssize_t L = e->off[s + 1] - e->off[s];
                    uint32_t stamp = next_stamp(&gstamp, dir, enc_vocab_size(e) + 1);
                    for (Py_ssize_t p = 0; p < L; p++) {
                        Counts *d = &dir[r[p]];
                        ra[p] = d->hc > 0;
                        if (d->hc)
                            bleu_hit(d, stamp, &m);
                    }
                }
                *mt = m;
                for (Py_ssize_t p = 0; p < H; p++)
                    halive[p] = dir[h[p]].mx > 0;
                for (Py_ssize_t p = 0; p < H; p++)
                    dir[h[p]].hc = dir[h[p]].mx = 0;
                continue;
            }
            if (table_prepare(&t, (size_t)G) < 0) {
                rc = -1;
                goto done;
            }
            uint64_t a, b;
            int isnew;
            Py_ssize_t inserted = 0;
            for (Py_ssize_t p = 0; p < G; p++) {
                if (n1 > 1 && !(halive[p] && halive[p + 1])) {
                    hslot[p] = NO_SLOT;
                    continue;
                }
                gram_key(h + p, n1, &a, &b);
                Slot *sl = table_insert(&t, a, b, &isnew);
                sl->c.hc++;
                hslot[p] = (uint32_t)(sl - t.s);
                inserted++;
            }
            if (inserted == 0) {
                dead = 1;
                continue;
            }
            int64_t m = 0;
            uint32_t stamp = 0; /* the table is cleared for each item and order */
            for (Py_ssize_t s = rs[i]; s < rs[i + 1]; s++) {
                stamp++;
                const uint32_t *r = e->tok + e->off[s];
                uint8_t *ra = ralive + (e->off[s] - rbase);
                Py_ssize_t R = e->off[s + 1] - e->off[s] - n1 + 1;
                for (Py_ssize_t p = 0; p < R; p++) {
                    if (n1 > 1 && !(ra[p] && ra[p + 1])) {
                        ra[p] = 0;
                        continue;
                    }
                    gram_key(r + p, n1, &a, &b);
                    Slot *sl = table_find(&t, a, b);
                    ra[p] = sl != NULL;
                    if (sl)
                        bleu_hit(&sl->c, stamp, &m);
                }
            }
            *mt = m;
            for (Py_ssize_t p = 0; p < G; p++)
                halive[p] = hslot[p] != NO_SLOT && t.s[hslot[p]].c.mx > 0;
        }
    }
done:
    free(t.s);
    free(hslot);
    free(halive);
    free(ralive);
    free(dir);
    return rc;
}

static PyObject *k_bleu_stats(PyObject *self, PyObject *args)
{
    PyObject *enc_obj;
    int N;
    Py_buffer bm = {0}, bt = {0}, bh = {0}, br = {0};
    Py_ssize_t lo = 0, hi = -1;
    if (!PyArg_ParseTuple(args, "Oiw*w*w*w*|nn:bleu_stats", &enc_obj, &N, &bm, &bt, &bh, &br, &lo, &hi))
        return NULL;
    PyObject *result = NULL;
    EncodingObject *enc = as_encoding(enc_obj, 1);
    if (!enc)
        goto out;
    Py_ssize_t n = enc->n;
    const Py_ssize_t *rs = enc->rs;
    if (hi < 0)
        hi = n;
    if (lo < 0 || lo > hi || hi > n) {
        PyErr_SetString(PyExc_ValueError, "bleu_stats: item range out of bounds");
        goto out;
    }
    if (N < 1 || N > MAX_N) {
        result = fallback();
        goto out;
    }
    for (Py_ssize_t i = lo; i < hi; i++) {
        if (rs[i] == rs[i + 1]) { /* no reference: Python raises */
            result = fallback();
            goto out;
        }
    }
    if (check_buf(&bm, n * N, "matches") < 0 || check_buf(&bt, n * N, "totals") < 0 ||
        check_buf(&bh, n, "hyp_len") < 0 || check_buf(&br, n, "ref_len") < 0)
        goto out;
    int rc;
    stop_clear();
    Py_BEGIN_ALLOW_THREADS
    rc = bleu_compute(&enc->e, lo, hi, rs, N, (int64_t *)bm.buf, (int64_t *)bt.buf, (int64_t *)bh.buf,
                      (int64_t *)br.buf);
    Py_END_ALLOW_THREADS
    stop_clear();
    if (rc < 0) {
        if (rc != STOPPED)
            PyErr_NoMemory();
        goto out;
    }
    result = Py_NewRef(Py_True);
out:
    PyBuffer_Release(&bm);
    PyBuffer_Release(&bt);
    PyBuffer_Release(&bh);
    PyBuffer_Release(&br);
    return result;
}

/* ------------------------------------------------------------------ */
/* rouge_stats                                                          */
/* ------------------------------------------------------------------ */
/* the six ROUGE columns of one order in a (item, reference) row */
static inline void rouge_row(int64_t *row, int64_t G, int64_t R, int64_t clip, int64_t hset, int64_t rset,
                             int64_t sets)
{
    row[0] = G;
    row[1] = R;
    row[2] = clip;
    row[3] = hset;
    row[4] = rset;
    row[5] = sets;
}

static int rouge_compute(const Enc *e, Py_ssize_t lo, Py_ssize_t hi, const Py_ssize_t *rs, const int *orders,
                         int n_orders, int do_lcs, int64_t *item, int64_t *data, Py_ssize_t ncols, size_t vocab)
{
    Table t = {NULL, 0, 0};
    LcsWork w = {NULL, NULL, 0, 0};
    int rc = 0;
    uint32_t gstamp = 0;
    Counts *dir = (Counts *)calloc(vocab + 1, sizeof(Counts)); /* order 1: indexed by token id */
    if (!dir || (do_lcs && lcs_work_init(&w, vocab, (size_t)e->maxlen) < 0)) {
        rc = -1;
        goto done;
    }
    Py_ssize_t row0 = 0;
    int64_t left = CHECK_EVERY;
    for (Py_ssize_t i = lo; i < hi; i++) {
        const uint32_t *h = e->tok + e->off[i];
        Py_ssize_t H = e->off[i + 1] - e->off[i];
        Py_ssize_t nref = rs[i + 1] - rs[i];
        if (stop_tick(&left, (int64_t)n_orders * (H + e->off[rs[i + 1]] - e->off[rs[i]]) + 1) < 0) {
            rc = STOPPED;
            goto done;
        }
        for (int oi = 0; oi < n_orders; oi++) {
            int n1 = orders[oi];
            Py_ssize_t G = H - n1 + 1 > 0 ? H - n1 + 1 : 0;
            if (n1 == 1) {
                int64_t hset = 0;
                for (Py_ssize_t p = 0; p < H; p++)
                    hset += dir[h[p]].hc++ == 0;
                for (Py_ssize_t s = rs[i]; s < rs[i + 1]; s++) {
                    const uint32_t *r = e->tok + e->off[s];
                    Py_ssize_t L = e->off[s + 1] - e->off[s];
                    uint32_t stamp = next_stamp(&gstamp, dir, vocab + 1);
                    int64_t rset = 0, sets = 0, clip = 0;
                    for (Py_ssize_t p = 0; p < L; p++)
                        rouge_hit(&dir[r[p]], stamp, &rset, &sets, &clip);
                    rouge_row(data + (row0 + (s - rs[i])) * ncols + 6 * oi, G, L, clip, hset, rset, sets);
                }
                for (Py_ssize_t p = 0; p < H; p++)
                    dir[h[p]].hc = 0;
                continue;
            }
            size_t need = (size_t)G;
            for (Py_ssize_t s = rs[i]; s < rs[i + 1]; s++) {
                Py_ssize_t R = e->off[s + 1] - e->off[s] - n1 + 1;
                if (R > 0)
                    need += (size_t)R;
            }
            if (table_prepare(&t, need) < 0) {
                rc = -1;
                goto done;
            }
            uint64_t a, b;
            int isnew;
            int64_t hset = 0;
            for (Py_ssize_t p = 0; p < G; p++) {
                gram_key(h + p, n1, &a, &b);
                Slot *sl = table_insert(&t, a, b, &isnew);
                hset += isnew;
                sl->c.hc++;
            }
            uint32_t stamp = 0; /* the table is cleared for each item and order */
            for (Py_ssize_t s = rs[i]; s < rs[i + 1]; s++) {
                stamp++;
                const uint32_t *r = e->tok + e->off[s];
                Py_ssize_t R = e->off[s + 1] - e->off[s] - n1 + 1;
                if (R < 0)
                    R = 0;
                int64_t rset = 0, sets = 0, clip = 0;
                for (Py_ssize_t p = 0; p < R; p++) {
                    gram_key(r + p, n1, &a, &b);
                    rouge_hit(&table_insert(&t, a, b, &isnew)->c, stamp, &rset, &sets, &clip);
                }
                rouge_row(data + (row0 + (s - rs[i])) * ncols + 6 * oi, G, R, clip, hset, rset, sets);
            }
        }
        for (Py_ssize_t s = rs[i]; s < rs[i + 1]; s++) {
            const uint32_t *r = e->tok + e->off[s];
            Py_ssize_t L = e->off[s + 1] - e->off[s];
            int64_t *row = data + (row0 + (s - rs[i])) * ncols + 6 * n_orders;
            row[0] = do_lcs ? lcs_ids(h, H, r, L, &w) : 0;
            if (row[0] == STOPPED) {
                rc = STOPPED;
                goto done;
            }
            row[1] = H;
            row[2] = L;
            item[row0 + (s - rs[i])] = i;
        }
        row0 += nref;
    }
done:
    free(t.s);
    free(dir);
    lcs_work_free(&w);
    return rc;
}

static PyObject *k_rouge_stats(PyObject *self, PyObject *args)
{
    PyObject *enc_obj, *orders_obj;
    int do_lcs;
    Py_ssize_t lo = 0, hi = -1;
    if (!PyArg_ParseTuple(args, "OOp|nn:rouge_stats", &enc_obj, &orders_obj, &do_lcs, &lo, &hi))
        return NULL;
    EncodingObject *enc = as_encoding(enc_obj, 1);
    if (!enc)
        return NULL;
    if (hi < 0)
        hi = enc->n;
    if (lo < 0 || lo > hi || hi > enc->n) {
        PyErr_SetString(PyExc_ValueError, "rouge_stats: item range out of bounds");
        return NULL;
    }
    int orders[16];
    Py_ssize_t n_orders;
    {
        PyObject *fo = PySequence_Fast(orders_obj, "orders");
        if (!fo)
            return fallback();
        n_orders = PySequence_Fast_GET_SIZE(fo);
        if (n_orders > 16) {
            Py_DECREF(fo);
            return fallback();
        }
        for (Py_ssize_t k = 0; k < n_orders; k++) {
            PyObject *o = PySequence_Fast_GET_ITEM(fo, k);
            long v = PyLong_CheckExact(o) ? PyLong_AsLong(o) : -1;
            if (v < 1 || v > MAX_N) {
                Py_DECREF(fo);
                return fallback();
            }
            orders[k] = (int)v;
        }
        Py_DECREF(fo);
    }
    PyObject *result = NULL, *item_ba = NULL, *data_ba = NULL;
    const Enc *e = &enc->e;
    const Py_ssize_t *rs = enc->rs;
    Py_ssize_t nrows = rs[hi] - rs[lo];
    Py_ssize_t ncols = 6 * n_orders + 3;
    item_ba = PyByteArray_FromStringAndSize(NULL, nrows * 8);
    data_ba = PyByteArray_FromStringAndSize(NULL, nrows * ncols * 8);
    if (!item_ba || !data_ba)
        goto out;
    int64_t *item = (int64_t *)PyByteArray_AS_STRING(item_ba);
    int64_t *data = (int64_t *)PyByteArray_AS_STRING(data_ba);
    size_t vocab = enc_vocab_size(e);
    int rc;
    stop_clear();
    Py_BEGIN_ALLOW_THREADS
    rc = rouge_compute(e, lo, hi, rs, orders, (int)n_orders, do_lcs, item, data, ncols, vocab);
    Py_END_ALLOW_THREADS
    stop_clear();
    if (rc < 0) {
        if (rc != STOPPED)
            PyErr_NoMemory();
        goto out;
    }
    result = Py_BuildValue("(OOn)", item_ba, data_ba, nrows);
out:
    Py_XDECREF(item_ba);
    Py_XDECREF(data_ba);
    return result;
}

/* ------------------------------------------------------------------ */
/* distinct_counts                                                      */
/* ------------------------------------------------------------------ */
/* With ``first`` non-NULL, the flat token offset of the first occurrence
 * of each corpus-distinct n-gram is appended to it (for the exact sets). */
typedef struct {
    int64_t *v;
    size_t n, cap;
} I64Vec;

static int i64_push(I64Vec *a, int64_t x)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 1024;
        int64_t *v = (int64_t *)realloc(a->v, cap * sizeof(int64_t));
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

/* With nparts > 1, only the n-grams whose hash falls in ``part`` are
 * counted (distinct counts add up over the parts, which share nothing;
 * totals are always whole): threads can split one order exactly. */
static inline int in_part(uint64_t a, uint64_t b, int part, int nparts)
{
    return nparts <= 1 || (int)(hash_key(a, b) % (uint64_t)nparts) == part;
}

static int distinct_compute(const Enc *e, Py_ssize_t n, int n1, int64_t *uniq, int64_t *total, int64_t *pid,
                            int64_t *pit, I64Vec *first, int part, int nparts)
{
    Table t = {NULL, 0, 0};
    KeySet ks = {NULL, 0, 0};
    int rc = 0;
    int64_t tot = 0;
    int64_t left = CHECK_EVERY;
    if (n1 == 1) { /* token ids index arrays directly */
        size_t V = enc_vocab_size(e) + 1;
        Py_ssize_t *last = (Py_ssize_t *)malloc(V * sizeof(Py_ssize_t)); /* last item seen in, -1 never */
        if (!last)
            return -1;
        for (size_t k = 0; k < V; k++)
            last[k] = -1;
        int64_t u = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            const uint32_t *h = e->tok + e->off[i];
            Py_ssize_t H = e->off[i + 1] - e->off[i];
            if (stop_tick(&left, H + 1) < 0) {
                free(last);
                return STOPPED;
            }
            int64_t d = 0;
            for (Py_ssize_t p = 0; p < H; p++) {
                Py_ssize_t seen = last[h[p]];
                if (seen == i || !in_part(0, h[p], part, nparts))
                    continue;
                d++;
                if (seen < 0) {
                    u++;
                    if (first && i64_push(first, (int64_t)(e->off[i] + p)) < 0) {
                        free(last);
                        return -1;
                    }
                }
                last[h[p]] = i;
            }
            pid[i] = d;
            pit[i] = H;
            tot += H;
        }
        free(last);
        *uniq = u;
        *total = tot;
        return 0;
    }
    KeySet32 ks32 = {NULL, 0, 0};
    size_t V1 = enc_vocab_size(e) + 1;
    int narrow = n1 == 2 && V1 < 65535;
    for (Py_ssize_t i = 0; i < n; i++) {
        const uint32_t *h = e->tok + e->off[i];
        Py_ssize_t H = e->off[i + 1] - e->off[i];
        Py_ssize_t G = H - n1 + 1 > 0 ? H - n1 + 1 : 0;
        if (stop_tick(&left, H + 1) < 0) {
            rc = STOPPED;
            goto done;
        }
        pit[i] = G;
        tot += G;
        if (table_prepare(&t, (size_t)G) < 0) {
            rc = -1;
            goto done;
        }
        int64_t d = 0;
        uint64_t a, b;
        int isnew;
        for (Py_ssize_t p = 0; p < G; p++) {
            gram_key(h + p, n1, &a, &b);
            if (!in_part(a, b, part, nparts))
                continue;
            table_insert(&t, a, b, &isnew);
            if (isnew) {
                d++;
                int added = narrow ? keyset32_add(&ks32, (uint32_t)(h[p] * V1 + h[p + 1])) : keyset_add(&ks, a, b);
                if (added < 0 || (added && first && i64_push(first, (int64_t)(e->off[i] + p)) < 0)) {
                    rc = -1;
                    goto done;
                }
            }
        }
        pid[i] = d;
    }
    *uniq = (int64_t)(narrow ? ks32.count : ks.count);
    *total = tot;
done:
    free(t.s);
    free(ks.k);
    free(ks32.k);
    return rc;
}

/* The set of n-gram tuples, as Python's set(zip(...)) builds it. */
static PyObject *gram_set(const Enc *e, PyObject **objs, const I64Vec *first, int n1)
{
    PyObject *set = PySet_New(NULL);
    if (!set)
        return NULL;
    for (size_t k = 0; k < first->n; k++) {
        const uint32_t *t = e->tok + first->v[k];
        PyObject *tup = PyTuple_New(n1);
        if (!tup) {
            Py_DECREF(set);
            return NULL;
        }
        for (int j = 0; j < n1; j++) {
            PyObject *o = objs[t[j]];
            Py_INCREF(o);
            PyTuple_SET_ITEM(tup, j, o);
        }
        int rc = PySet_Add(set, tup);
        Py_DECREF(tup);
        if (rc < 0) {
            Py_DECREF(set);
            return NULL;
        }
    }
    return set;
}

static PyObject *k_distinct_counts(PyObject *self, PyObject *args)
{
    PyObject *enc_obj, *orders_obj;
    int with_sets = 0, part = 0, nparts = 1;
    if (!PyArg_ParseTuple(args, "OO|pii:distinct_counts", &enc_obj, &orders_obj, &with_sets, &part, &nparts))
        return NULL;
    if (nparts < 1 || part < 0 || part >= nparts) {
        PyErr_SetString(PyExc_ValueError, "distinct_counts: part must be in 0..nparts-1");
        return NULL;
    }
    EncodingObject *enc = as_encoding(enc_obj, 0);
    if (!enc)
        return NULL;
    PyObject *fo = PySequence_Fast(orders_obj, "orders");
    if (!fo)
        return fallback();
    Py_ssize_t n_orders = PySequence_Fast_GET_SIZE(fo);
    for (Py_ssize_t k = 0; k < n_orders; k++) {
        PyObject *o = PySequence_Fast_GET_ITEM(fo, k);
        long v = PyLong_CheckExact(o) ? PyLong_AsLong(o) : -1;
        if (v < 1 || v > MAX_N) {
            Py_DECREF(fo);
            return fallback();
        }
    }
    PyObject *result = NULL;
    I64Vec first = {NULL, 0, 0};
    const Enc *e = &enc->e;
    Py_ssize_t n = enc->n;
    PyObject **objs = e->objs; /* token objects by id */
    result = PyList_New(n_orders);
    if (!result)
        goto out;
    for (Py_ssize_t k = 0; k < n_orders; k++) {
        int n1 = (int)PyLong_AsLong(PySequence_Fast_GET_ITEM(fo, k));
        PyObject *pid_ba = PyByteArray_FromStringAndSize(NULL, n * 8);
        PyObject *pit_ba = PyByteArray_FromStringAndSize(NULL, n * 8);
        if (!pid_ba || !pit_ba) {
            Py_XDECREF(pid_ba);
            Py_XDECREF(pit_ba);
            Py_CLEAR(result);
            goto out;
        }
        int64_t uniq = 0, total = 0;
        int rc;
        int64_t *pid = (int64_t *)PyByteArray_AS_STRING(pid_ba), *pit = (int64_t *)PyByteArray_AS_STRING(pit_ba);
        first.n = 0;
        I64Vec *fp = with_sets ? &first : NULL;
        stop_clear();
        Py_BEGIN_ALLOW_THREADS
        rc = distinct_compute(e, n, n1, &uniq, &total, pid, pit, fp, part, nparts);
        Py_END_ALLOW_THREADS
        stop_clear();
        if (rc < 0) {
            Py_DECREF(pid_ba);
            Py_DECREF(pit_ba);
            Py_CLEAR(result);
            if (rc != STOPPED)
                PyErr_NoMemory();
            goto out;
        }
        PyObject *head = with_sets ? gram_set(e, objs, &first, n1) : PyLong_FromLongLong(uniq);
        PyObject *tup = head ? Py_BuildValue("(NLNN)", head, (long long)total, pid_ba, pit_ba) : NULL;
        if (!tup) {
            if (!head) {
                Py_DECREF(pid_ba);
                Py_DECREF(pit_ba);
            }
            Py_CLEAR(result);
            goto out;
        }
        PyList_SET_ITEM(result, k, tup);
    }
out:
    Py_DECREF(fo);
    free(first.v);
    return result;
}

/* ------------------------------------------------------------------ */
/* lcs_length                                                           */
/* ------------------------------------------------------------------ */
static PyObject *k_lcs_length(PyObject *self, PyObject *args)
{
    PyObject *a, *b;
    if (!PyArg_ParseTuple(args, "OO:lcs_length", &a, &b))
        return NULL;
    Enc e;
    PyObject *result = NULL;
    if (enc_init(&e, 1) < 0)
        goto out;
    if (enc_add(&e, a) < 0 || enc_add(&e, b) < 0) {
        result = fallback();
        goto out;
    }
    LcsWork w;
    if (lcs_work_init(&w, enc_vocab_size(&e), (size_t)e.maxlen) < 0) {
        lcs_work_free(&w);
        PyErr_NoMemory();
        goto out;
    }
    int64_t v;
    stop_clear();
    Py_BEGIN_ALLOW_THREADS
    v = lcs_ids(e.tok, e.off[1], e.tok + e.off[1], e.off[2] - e.off[1], &w);
    Py_END_ALLOW_THREADS
    stop_clear();
    lcs_work_free(&w);
    result = v == STOPPED ? NULL : PyLong_FromLongLong(v);
out:
    enc_free(&e);
    return result;
}

/* ------------------------------------------------------------------ */
/* Float arithmetic of the references                                   */
/* ------------------------------------------------------------------ */
/* math.fsum (CPython's msum, finite inputs), n <= 32 */
static double py_fsum(const double *xs, int nx)
{
    double p[32];
    int n = 0;
    double x, y, t, hi, yr, lo = 0.0;
    for (int k = 0; k < nx; k++) {
        x = xs[k];
        int i = 0;
        for (int j = 0; j < n; j++) {
            y = p[j];
            if (fabs(x) < fabs(y)) {
                t = x;
                x = y;
                y = t;
            }
            hi = x + y;
            yr = hi - x;
            lo = y - yr;
            if (lo != 0.0)
                p[i++] = lo;
            x = hi;
        }
        n = i;
        if (x != 0.0)
            p[n++] = x;
    }
    hi = 0.0;
    if (n > 0) {
        hi = p[--n];
        while (n > 0) {
            x = hi;
            y = p[--n];
            hi = x + y;
            yr = hi - x;
            lo = y - yr;
            if (lo != 0.0)
                break;
        }
        if (n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0))) {
            y = lo * 2.0;
            x = hi + y;
            yr = x - hi;
            if (y == yr)
                hi = x;
        }
    }
    return hi;
}

/* builtin sum() of floats, as the running interpreter does it */
static double py_sum(const double *xs, int nx)
{
#if PY_VERSION_HEX >= 0x030C0000
    double f = 0.0, c = 0.0;
    for (int k = 0; k < nx; k++) {
        double x = xs[k];
        double t = f + x;
        if (fabs(f) >= fabs(x))
            c += (f - t) + x;
        else
            c += (x - t) + f;
        f = t;
    }
    if (c != 0.0 && isfinite(c))
        f += c;
    return f;
#else
    double f = 0.0;
    for (int k = 0; k < nx; k++)
        f += xs[k];
    return f;
#endif
}

enum { SM_NONE = 0, SM_METHOD1, SM_METHOD3, SM_EXP, SM_FLOOR, SM_ADDK };

static const double CUM_W[4][4] = {
    {1.0, 0, 0, 0}, {0.5, 0.5, 0, 0}, {1.0 / 3, 1.0 / 3, 1.0 / 3, 0}, {0.25, 0.25, 0.25, 0.25}};

/* nltk: scores for cumulative weights 1..N then (if individual) one-hot
 * weights 1..N, from one row; ``width`` orders are used for p. */
static void nltk_row(const int64_t *num, const int64_t *tot, int64_t hyp_len, int64_t ref_len, int width, int N,
                     int individual, int method3, double *out, Py_ssize_t stride)
{
    int nw = individual ? 2 * N : N;
    if (num[0] == 0) {
        for (int k = 0; k < nw; k++)
            out[k * stride] = 0.0;
        return;
    }
    double bp;
    if (hyp_len > ref_len)
        bp = 1.0;
    else if (hyp_len == 0)
        bp = 0.0;
    else
        bp = exp(1.0 - (double)ref_len / (double)hyp_len);
    double p[MAX_N], lg[MAX_N];
    int k2 = 1;
    for (int n = 0; n < width; n++) {
        int64_t den = tot[n] > 1 ? tot[n] : 1;
        if (num[n] == 0) {
            if (method3) {
                p[n] = 1.0 / (double)(((int64_t)1 << k2) * den);
                k2++;
            } else {
                p[n] = (0 + 0.1) / (double)den;
            }
        } else {
            p[n] = (double)num[n] / (double)den;
        }
        lg[n] = p[n] > 0 ? log(p[n]) : 0.0;
    }
    double terms[MAX_N];
    for (int wi = 0; wi < nw; wi++) {
        int nt = 0;
        if (wi < N) {
            int len = wi + 1 < width ? wi + 1 : width;
            for (int i = 0; i < len; i++)
                if (p[i] > 0)
                    terms[nt++] = CUM_W[wi][i] * lg[i];
        } else {
            int order = wi - N; /* one-hot at order */
            int len = 4 < width ? 4 : width;
            for (int i = 0; i < len; i++)
                if (p[i] > 0)
                    terms[nt++] = (i == order ? 1.0 : 0.0) * lg[i];
        }
        double s = py_fsum(terms, nt);
        out[wi * stride] = bp * exp(s);
    }
}

/* sacreBLEU compute_bleu for max_order = order (cumulative when ind == 0,
 * else BP times p_order alone, effective order off) */
static double sacre_one(const int64_t *correct, const int64_t *total, int64_t sys_len, int64_t ref_len, int order,
                        int smooth, double sv, int effective, int ind)
{
    double bp = 1.0;
    if (sys_len < ref_len)
        bp = sys_len > 0 ? exp(1.0 - (double)ref_len / (double)sys_len) : 0.0;
    int any = 0;
    for (int n = 0; n < order; n++)
        if (correct[n] != 0)
            any = 1;
    if (!any)
        return 0.0;
    double prec[MAX_N] = {0.0, 0.0, 0.0, 0.0};
    double smooth_mteval = 1.0;
    int eff = order;
    for (int n = 1; n <= order; n++) {
        double c = (double)correct[n - 1], t = (double)total[n - 1];
        if (smooth == SM_ADDK && n > 1) {
            c += sv;
            t += sv;
        }
        if (t == 0)
            break;
        if (effective && !ind)
            eff = n;
        if (c == 0) {
            if (smooth == SM_EXP) {
                smooth_mteval *= 2;
                prec[n - 1] = 100.0 / (smooth_mteval * t);
            } else if (smooth == SM_FLOOR) {
                prec[n - 1] = 100.0 * sv / t;
            }
        } else {
            prec[n - 1] = 100.0 * c / t;
        }
    }
    if (ind) {
        double lp = prec[order - 1] == 0.0 ? -9999999999.0 : log(prec[order - 1]);
        return bp * exp(lp);
    }
    double lg[MAX_N];
    for (int n = 0; n < eff; n++)
        lg[n] = prec[n] == 0.0 ? -9999999999.0 : log(prec[n]);
    return bp * exp(py_sum(lg, eff) / eff);
}

static PyObject *k_bleu_sentences(PyObject *self, PyObject *args)
{
    Py_buffer bm = {0}, bt = {0}, bh = {0}, br = {0}, bo = {0};
    Py_ssize_t n, ncols;
    int family, smooth, effective, N, individual;
    double sv;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*nniidpip:bleu_sentences", &bm, &bt, &bh, &br, &bo, &n, &ncols, &family,
                          &smooth, &sv, &effective, &N, &individual))
        return NULL;
    PyObject *result = NULL;
    int nw = individual ? 2 * N : N;
    if (check_buf(&bm, n * ncols, "matches") < 0 || check_buf(&bt, n * ncols, "totals") < 0 ||
        check_buf(&bh, n, "hyp_len") < 0 || check_buf(&br, n, "ref_len") < 0 || check_buf(&bo, n * nw, "out") < 0)
        goto out;
    if (N < 1 || N > MAX_N || ncols < 1) {
        result = fallback();
        goto out;
    }
    const int64_t *m = (const int64_t *)bm.buf, *t = (const int64_t *)bt.buf;
    const int64_t *hl = (const int64_t *)bh.buf, *rl = (const int64_t *)br.buf;
    double *o = (double *)bo.buf;
    /* only values where int and double arithmetic agree */
    for (Py_ssize_t k = 0; k < n * ncols; k++)
        if (m[k] < 0 || m[k] > EXACT_INT_MAX || t[k] < 0 || t[k] > EXACT_INT_MAX) {
            result = fallback();
            goto out;
        }
    for (Py_ssize_t k = 0; k < n; k++)
        if (hl[k] < 0 || hl[k] > EXACT_INT_MAX || rl[k] < 0 || rl[k] > EXACT_INT_MAX) {
            result = fallback();
            goto out;
        }
    if (family == 0) {
        int width = individual ? 4 : N;
        if (width > ncols)
            width = (int)ncols;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n; i++)
            nltk_row(m + i * ncols, t + i * ncols, hl[i], rl[i], width, N, individual, smooth == SM_METHOD3, o + i, n);
        Py_END_ALLOW_THREADS
    } else {
        if (ncols < N) {
            result = fallback();
            goto out;
        }
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n; i++) {
            const int64_t *mi = m + i * ncols, *ti = t + i * ncols;
            for (int k = 1; k <= N; k++)
                o[(k - 1) * n + i] = sacre_one(mi, ti, hl[i], rl[i], k, smooth, sv, effective, 0);
            if (individual)
                for (int k = 1; k <= N; k++)
                    o[(N + k - 1) * n + i] = sacre_one(mi, ti, hl[i], rl[i], k, smooth, sv, 0, 1);
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_True);
out:
    PyBuffer_Release(&bm);
    PyBuffer_Release(&bt);
    PyBuffer_Release(&bh);
    PyBuffer_Release(&br);
    PyBuffer_Release(&bo);
    return result;
}

/* test hooks: the two summations against math.fsum and sum() */
static int floats_of(PyObject *seq, double *xs, int *nx)
{
    PyObject *f = PySequence_Fast(seq, "expected a sequence of floats");
    if (!f)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(f);
    if (n > 32) {
        Py_DECREF(f);
        PyErr_SetString(PyExc_ValueError, "at most 32 values");
        return -1;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        xs[k] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(f, k));
        if (xs[k] == -1.0 && PyErr_Occurred()) {
            Py_DECREF(f);
            return -1;
        }
    }
    Py_DECREF(f);
    *nx = (int)n;
    return 0;
}

static PyObject *k_fsum(PyObject *self, PyObject *seq)
{
    double xs[32];
    int nx;
    if (floats_of(seq, xs, &nx) < 0)
        return NULL;
    return PyFloat_FromDouble(py_fsum(xs, nx));
}

static PyObject *k_sum(PyObject *self, PyObject *seq)
{
    double xs[32];
    int nx;
    if (floats_of(seq, xs, &nx) < 0)
        return NULL;
    return PyFloat_FromDouble(py_sum(xs, nx));
}

static PyObject *k_stop_threads(PyObject *self, PyObject *arg)
{
    int flag = PyObject_IsTrue(arg);
    if (flag < 0)
        return NULL;
    g_stop = flag;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"stop_threads", k_stop_threads, METH_O,
     "stop_threads(flag): True: kernels running in other threads stop at their next check (some milliseconds) "
     "with KeyboardInterrupt, until stop_threads(False)"},
    {"encode", k_encode, METH_VARARGS,
     "encode(hyps, refs=None) -> Encoding (token ids, interned once), or NotImplemented"},
    {"from_ids", k_from_ids, METH_VARARGS,
     "from_ids(ids, offsets, vocabulary, n, ref_start=None) -> Encoding: ids (uint32, 1-based into vocabulary) "
     "and offsets (int64) of sequences; the first n are hypotheses, item i's references are sequences "
     "ref_start[i]..ref_start[i+1]"},
    {"bleu_stats", k_bleu_stats, METH_VARARGS,
     "bleu_stats(encoding, max_order, matches, totals, hyp_len, ref_len, lo=0, hi=n): fill rows lo..hi of the "
     "int64 buffers; True, or NotImplemented for inputs left to the Python code"},
    {"rouge_stats", k_rouge_stats, METH_VARARGS,
     "rouge_stats(encoding, orders, lcs, lo=0, hi=n) -> (item bytes, data bytes, n_rows) of int64 for items "
     "lo..hi, or NotImplemented"},
    {"distinct_counts", k_distinct_counts, METH_VARARGS,
     "distinct_counts(encoding, orders, with_sets=False, part=0, nparts=1) -> [(uniq or set of n-gram tuples, "
     "total, per-item distinct, per-item total)], or NotImplemented; with nparts > 1 only the n-grams of one hash "
     "part are counted as distinct (parts add up)"},
    {"lcs_length", k_lcs_length, METH_VARARGS, "lcs_length(a, b) -> int, or NotImplemented"},
    {"bleu_sentences", k_bleu_sentences, METH_VARARGS,
     "bleu_sentences(matches, totals, hyp_len, ref_len, out, n, ncols, family, smoothing, smooth_value, "
     "effective_order, max_order, individual): per-item BLEU into out (names x items)"},
    {"_fsum", k_fsum, METH_O, "math.fsum port (test hook)"},
    {"_sum", k_sum, METH_O, "builtin sum() of floats (test hook)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef ckernels_module = {
    PyModuleDef_HEAD_INIT, "judgekit._ckernels",
    "Compiled n-gram, LCS and BLEU kernels (twins of judgekit.ngram._stats and bleu)", -1, methods,
};

PyMODINIT_FUNC PyInit__ckernels(void)
{
    if (PyType_Ready(&EncodingType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&ckernels_module);
    if (!m)
        return NULL;
    { /* the main thread, where Python runs signal handlers (see stop_check) */
        PyObject *th = PyImport_ImportModule("threading");
        PyObject *main = th ? PyObject_CallMethod(th, "main_thread", NULL) : NULL;
        PyObject *ident = main ? PyObject_GetAttrString(main, "ident") : NULL;
        g_main_thread = ident ? PyLong_AsUnsignedLong(ident) : 0;
        Py_XDECREF(ident);
        Py_XDECREF(main);
        Py_XDECREF(th);
        if (PyErr_Occurred()) {
            Py_DECREF(m);
            return NULL;
        }
    }
    Py_INCREF(&EncodingType);
    if (PyModule_AddObject(m, "Encoding", (PyObject *)&EncodingType) < 0) {
        Py_DECREF(&EncodingType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
