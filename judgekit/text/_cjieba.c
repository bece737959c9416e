/*
 * judgekit._cjieba: a segmenter that gives exactly the tokens of
 * jieba 0.42.1 ``Tokenizer.cut(text, HMM=...)`` (cut_all=False).
 *
 * Why C: jieba's algorithm is small and deterministic, and segmentation is
 * the floor of every Chinese metric pipeline.  This file re-states jieba's
 * semantics (no code or data of jieba is copied): the dictionary and the HMM
 * tables are handed in at load time by judgekit/text/_cjieba_load.py, which
 * reads them from the installed jieba package.
 *
 * The details that decide a token boundary, mirrored here:
 *  - blocks are maximal runs of [\u4E00-\u9FD5a-zA-Z0-9+#&._%-]; every other
 *    character is its own token, except "\r\n" which is one token;
 *  - the DAG holds, for each start, the ends of prefixes whose frequency is
 *    non-zero (a prefix of frequency 0 continues the walk but is no edge);
 *  - the route maximises (log(freq) - log(total) + route[x+1], x) over the
 *    DAG, so ties go to the larger end index; a start without edges is a
 *    one-character word with log(1) = 0;
 *  - with the HMM, runs of one-character words are buffered: one character
 *    is emitted as is, a buffer that is a dictionary word (freq > 0) is
 *    emitted character by character, otherwise finalseg cuts it (Viterbi on
 *    runs of [\u4E00-\u9FD5], the regex [a-zA-Z0-9]+(\.\d+)?%? on the rest;
 *    words added with frequency 0 are split into characters);
 *  - without the HMM, consecutive one-character ASCII letters/digits are
 *    merged into one token;
 *  - floating point: the same additions in the same order, log() from libm,
 *    MIN_FLOAT = -3.14e100 for missing probabilities, ties in the Viterbi
 *    max broken by the larger state letter, as Python's tuple max does.
 *
 * Tokens are returned as substrings of the input (spans), computed without
 * the GIL.  The dictionary is a trie: a direct array for the children of the
 * root in the BMP and an open-addressing hash of (parent, code point).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* strings are always "ready" since 3.12, where the call is deprecated */
#if PY_VERSION_HEX >= 0x030C0000
#define STR_READY(o) 0
#else
#define STR_READY(o) PyUnicode_READY(o)
#endif

#define MIN_FLOAT (-3.14e100)
#define NO_NODE ((uint32_t)0xFFFFFFFFu)
#define EMPTY_KEY ((uint64_t)0xFFFFFFFFFFFFFFFFull)
#define ROOT_DIRECT 0x10000
#define HAN_LO 0x4E00
#define HAN_HI 0x9FD5
#define HAN_N (HAN_HI - HAN_LO + 1)
/* frequencies above this would overflow the int64 total: refused (the
   Python fallback handles them) */
#define FREQ_MAX ((int64_t)1 << 60)

enum { ST_B = 0, ST_M = 1, ST_E = 2, ST_S = 3 };
static const char STATE_CHARS[4] = {'B', 'M', 'E', 'S'};
/* finalseg.PrevStatus, in its iteration order */
static const int PREV[4][2] = {
    {ST_E, ST_S}, /* B: 'ES' */
    {ST_M, ST_B}, /* M: 'MB' */
    {ST_B, ST_M}, /* E: 'BM' */
    {ST_S, ST_E}, /* S: 'SE' */
};

/* ------------------------------------------------------------------ */
/* character classes                                                    */

static unsigned char BLOCK_ASCII[128];
static unsigned char ALNUM_ASCII[128];

static void
init_classes(void)
{
    int c;
    const char *extra = "+#&._%-";
    memset(BLOCK_ASCII, 0, sizeof(BLOCK_ASCII));
    memset(ALNUM_ASCII, 0, sizeof(ALNUM_ASCII));
    for (c = 'a'; c <= 'z'; c++) BLOCK_ASCII[c] = ALNUM_ASCII[c] = 1;
    for (c = 'A'; c <= 'Z'; c++) BLOCK_ASCII[c] = ALNUM_ASCII[c] = 1;
    for (c = '0'; c <= '9'; c++) BLOCK_ASCII[c] = ALNUM_ASCII[c] = 1;
    for (; *extra; extra++) BLOCK_ASCII[(unsigned char)*extra] = 1;
}

Py_LOCAL_INLINE(int)
is_han(Py_UCS4 c)
{
    return c >= HAN_LO && c <= HAN_HI;
}

Py_LOCAL_INLINE(int)
is_block(Py_UCS4 c)
{
    return is_han(c) || (c < 128 && BLOCK_ASCII[c]);
}

Py_LOCAL_INLINE(int)
is_alnum(Py_UCS4 c)
{
    return c < 128 && ALNUM_ASCII[c];
}

Py_LOCAL_INLINE(int)
is_digit(Py_UCS4 c)
{
    return c >= '0' && c <= '9';
}

/* ------------------------------------------------------------------ */
/* the trie                                                             */

typedef struct {
    uint32_t *root;     /* ROOT_DIRECT children of the root, NO_NODE if none */
    uint64_t *keys;     /* (parent << 21) | code point, EMPTY_KEY if free */
    uint32_t *vals;
    size_t mask;
    int shift;
    size_t used;
    int64_t *freq;      /* per node; 0 = a prefix only */
    double *logf;       /* log((double)freq) when freq > 0 */
    unsigned char *force_split; /* added with freq 0: finalseg splits it */
    size_t n_nodes, cap_nodes;
    size_t n_force;
} Trie;

Py_LOCAL_INLINE(size_t)
hash_slot(uint64_t key, int shift)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> shift);
}

Py_LOCAL_INLINE(uint32_t)
trie_child(const Trie *t, uint32_t parent, Py_UCS4 cp)
{
    uint64_t key;
    size_t h;
    if (parent == 0 && cp < ROOT_DIRECT)
        return t->root[cp];
    key = ((uint64_t)parent << 21) | (uint64_t)cp;
    h = hash_slot(key, t->shift);
    for (;;) {
        uint64_t k = t->keys[h];
        if (k == key) return t->vals[h];
        if (k == EMPTY_KEY) return NO_NODE;
        h = (h + 1) & t->mask;
    }
}

static int
trie_init(Trie *t, size_t expect_nodes)
{
    size_t cap = 1024, i;
    int bits = 10;
    memset(t, 0, sizeof(*t));
    while (cap < expect_nodes * 2) { cap <<= 1; bits++; }
    t->root = (uint32_t *)PyMem_RawMalloc(sizeof(uint32_t) * ROOT_DIRECT);
    t->keys = (uint64_t *)PyMem_RawMalloc(sizeof(uint64_t) * cap);
    t->vals = (uint32_t *)PyMem_RawMalloc(sizeof(uint32_t) * cap);
    t->cap_nodes = expect_nodes + 16;
    t->freq = (int64_t *)PyMem_RawMalloc(sizeof(int64_t) * t->cap_nodes);
    t->logf = (double *)PyMem_RawMalloc(sizeof(double) * t->cap_nodes);
    t->force_split = (unsigned char *)PyMem_RawCalloc(t->cap_nodes, 1);
    if (!t->root || !t->keys || !t->vals || !t->freq || !t->logf || !t->force_split)
        return -1;
    for (i = 0; i < ROOT_DIRECT; i++) t->root[i] = NO_NODE;
    for (i = 0; i < cap; i++) t->keys[i] = EMPTY_KEY;
    t->mask = cap - 1;
    t->shift = 64 - bits;
    t->n_nodes = 1; /* node 0 is the root (the empty string, never a word) */
    t->freq[0] = 0;
    t->logf[0] = 0.0;
    return 0;
}

static void
trie_free(Trie *t)
{
    PyMem_RawFree(t->root);
    PyMem_RawFree(t->keys);
    PyMem_RawFree(t->vals);
    PyMem_RawFree(t->freq);
    PyMem_RawFree(t->logf);
    PyMem_RawFree(t->force_split);
    memset(t, 0, sizeof(*t));
}

static int
trie_grow_hash(Trie *t)
{
    size_t oldcap = t->mask + 1, newcap = oldcap * 2, i;
    uint64_t *nk = (uint64_t *)PyMem_RawMalloc(sizeof(uint64_t) * newcap);
    uint32_t *nv = (uint32_t *)PyMem_RawMalloc(sizeof(uint32_t) * newcap);
    int nshift = t->shift - 1;
    if (!nk || !nv) { PyMem_RawFree(nk); PyMem_RawFree(nv); return -1; }
    for (i = 0; i < newcap; i++) nk[i] = EMPTY_KEY;
    for (i = 0; i < oldcap; i++) {
        uint64_t k = t->keys[i];
        size_t h;
        if (k == EMPTY_KEY) continue;
        h = hash_slot(k, nshift);
        while (nk[h] != EMPTY_KEY) h = (h + 1) & (newcap - 1);
        nk[h] = k;
        nv[h] = t->vals[i];
    }
    PyMem_RawFree(t->keys);
    PyMem_RawFree(t->vals);
    t->keys = nk;
    t->vals = nv;
    t->mask = newcap - 1;
    t->shift = nshift;
    return 0;
}

static uint32_t
trie_new_node(Trie *t)
{
    if (t->n_nodes >= 0xFFFFFFF0u) return NO_NODE;
    if (t->n_nodes == t->cap_nodes) {
        size_t nc = t->cap_nodes * 2;
        int64_t *f = (int64_t *)PyMem_RawRealloc(t->freq, sizeof(int64_t) * nc);
        double *l;
        unsigned char *fs;
        if (!f) return NO_NODE;
        t->freq = f;
        l = (double *)PyMem_RawRealloc(t->logf, sizeof(double) * nc);
        if (!l) return NO_NODE;
        t->logf = l;
        fs = (unsigned char *)PyMem_RawRealloc(t->force_split, nc);
        if (!fs) return NO_NODE;
        memset(fs + t->cap_nodes, 0, nc - t->cap_nodes);
        t->force_split = fs;
        t->cap_nodes = nc;
    }
    t->freq[t->n_nodes] = 0;
    t->logf[t->n_nodes] = 0.0;
    t->force_split[t->n_nodes] = 0;
    return (uint32_t)t->n_nodes++;
}

/* the child of parent for cp, created (freq 0) when missing */
static uint32_t
trie_child_make(Trie *t, uint32_t parent, Py_UCS4 cp)
{
    uint64_t key;
    size_t h;
    uint32_t node;
    if (parent == 0 && cp < ROOT_DIRECT) {
        if (t->root[cp] == NO_NODE) t->root[cp] = trie_new_node(t);
        return t->root[cp];
    }
    key = ((uint64_t)parent << 21) | (uint64_t)cp;
    h = hash_slot(key, t->shift);
    for (;;) {
        uint64_t k = t->keys[h];
        if (k == key) return t->vals[h];
        if (k == EMPTY_KEY) break;
        h = (h + 1) & t->mask;
    }
    if ((t->used + 1) * 2 > t->mask + 1) {
        if (trie_grow_hash(t) < 0) return NO_NODE;
        h = hash_slot(key, t->shift);
        while (t->keys[h] != EMPTY_KEY) h = (h + 1) & t->mask;
    }
    node = trie_new_node(t);
    if (node == NO_NODE) return NO_NODE;
    t->keys[h] = key;
    t->vals[h] = node;
    t->used++;
    return node;
}

/* the node of a whole string, or NO_NODE */
Py_LOCAL_INLINE(uint32_t)
trie_find(const Trie *t, const Py_UCS4 *s, Py_ssize_t a, Py_ssize_t b)
{
    uint32_t node = 0;
    Py_ssize_t i;
    for (i = a; i < b; i++) {
        node = trie_child(t, node, s[i]);
        if (node == NO_NODE) return NO_NODE;
    }
    return node;
}

/* ------------------------------------------------------------------ */
/* the Segmenter object                                                 */

/* encode_many's cache across calls: for each text seen (up to max_tokens
 * tokens in all), the lengths of its tokens, so that references shared by
 * several systems (a leaderboard) are cut once per process.  Texts are
 * compared by their characters (the entry holds the str); entries are
 * only added and read with the GIL held, and never freed while a call is
 * running (readers > 0). */
typedef struct {
    PyObject *text;
    uint64_t hash;
    uint8_t *lens;   /* token lengths in code points (texts with a token over 255 are not kept) */
    uint32_t ntok;
    int hmm;
} CacheEnt;

typedef struct {
    CacheEnt **ents;
    size_t n, cap;
    uint32_t *slot;  /* 1 + index into ents; 0 empty */
    size_t scap;
    size_t tokens, max_tokens;
} SpanCache;

typedef struct {
    PyObject_HEAD
    Trie trie;
    int64_t total;
    double start_p[4];
    double trans_p[4][4];
    double *emit_p; /* 4 * HAN_N */
    Py_ssize_t readers; /* calls running without the GIL */
    int ready;
    SpanCache cache;
} SegObject;

typedef struct {
    Py_ssize_t s, e;
} Span;

typedef struct {
    Span *sp;
    Py_ssize_t n, cap;
    Py_UCS4 *txt;
    Py_ssize_t txtcap;
    double *rp;
    Py_ssize_t *rx;
    Py_ssize_t rcap;
    unsigned char *back;
    Py_ssize_t bcap;
} Work;

static void
work_free(Work *w)
{
    PyMem_RawFree(w->sp);
    PyMem_RawFree(w->txt);
    PyMem_RawFree(w->rp);
    PyMem_RawFree(w->rx);
    PyMem_RawFree(w->back);
    memset(w, 0, sizeof(*w));
}

Py_LOCAL_INLINE(int)
emit_span(Work *w, Py_ssize_t s, Py_ssize_t e)
{
    if (w->n == w->cap) {
        Py_ssize_t nc = w->cap ? w->cap * 2 : 256;
        Span *p = (Span *)PyMem_RawRealloc(w->sp, sizeof(Span) * (size_t)nc);
        if (!p) return -1;
        w->sp = p;
        w->cap = nc;
    }
    w->sp[w->n].s = s;
    w->sp[w->n].e = e;
    w->n++;
    return 0;
}

static int
work_reserve_route(Work *w, Py_ssize_t n)
{
    if (n + 1 > w->rcap) {
        Py_ssize_t nc = n + 1 + (n >> 1) + 64;
        double *rp = (double *)PyMem_RawRealloc(w->rp, sizeof(double) * (size_t)nc);
        Py_ssize_t *rx;
        if (!rp) return -1;
        w->rp = rp;
        rx = (Py_ssize_t *)PyMem_RawRealloc(w->rx, sizeof(Py_ssize_t) * (size_t)nc);
        if (!rx) return -1;
        w->rx = rx;
        w->rcap = nc;
    }
    return 0;
}

/* one HMM word of finalseg.__cut: split into characters when it was
   added with frequency 0 (Force_Split_Words) */
static int
hmm_word(const SegObject *S, Work *w, const Py_UCS4 *s, Py_ssize_t a, Py_ssize_t b)
{
    if (S->trie.n_force) {
        uint32_t node = trie_find(&S->trie, s, a, b);
        if (node != NO_NODE && S->trie.force_split[node]) {
            Py_ssize_t i;
            for (i = a; i < b; i++)
                if (emit_span(w, i, i + 1) < 0) return -1;
            return 0;
        }
    }
    return emit_span(w, a, b);
}

/* finalseg.viterbi on a run of [\u4E00-\u9FD5] (T >= 1): the best final
   probability goes to *prob, the states (ST_*) to the returned array
   (inside w, valid until the next call); NULL when out of memory */
static unsigned char *
viterbi_core(const SegObject *S, Work *w, const Py_UCS4 *s, Py_ssize_t a, Py_ssize_t b, double *prob)
{
    Py_ssize_t T = b - a, t;
    double V[4], NV[4];
    const double *emit = S->emit_p;
    int y, state;
    unsigned char *back, *pos;
    if (T * 5 > w->bcap) {
        Py_ssize_t nc = T * 5 + 256;
        unsigned char *p = (unsigned char *)PyMem_RawRealloc(w->back, (size_t)nc);
        if (!p) return NULL;
        w->back = p;
        w->bcap = nc;
    }
    back = w->back;
    {
        Py_ssize_t c0 = (Py_ssize_t)s[a] - HAN_LO;
        for (y = 0; y < 4; y++) V[y] = S->start_p[y] + emit[y * HAN_N + c0];
    }
    for (t = 1; t < T; t++) {
        Py_ssize_t ct = (Py_ssize_t)s[a + t] - HAN_LO;
        for (y = 0; y < 4; y++) {
            double em = emit[y * HAN_N + ct];
            int y0 = PREV[y][0], y1 = PREV[y][1];
            double p0 = V[y0] + S->trans_p[y0][y] + em;
            double p1 = V[y1] + S->trans_p[y1][y] + em;
            /* max([(p0, y0), (p1, y1)]): the second wins when greater, or
               equal with a larger state letter */
            if (p1 > p0 || (p1 == p0 && STATE_CHARS[y1] > STATE_CHARS[y0])) {
                NV[y] = p1;
                back[t * 4 + y] = (unsigned char)y1;
            } else {
                NV[y] = p0;
                back[t * 4 + y] = (unsigned char)y0;
            }
        }
        memcpy(V, NV, sizeof(V));
    }
    /* max((V[y], y) for y in 'ES') */
    state = (V[ST_S] >= V[ST_E]) ? ST_S : ST_E;
    *prob = V[state];
    /* back-trace: the states go to pos[], after the back-pointers */
    pos = back + T * 4;
    pos[T - 1] = (unsigned char)state;
    for (t = T - 1; t > 0; t--) pos[t - 1] = back[t * 4 + pos[t]];
    return pos;
}

/* finalseg.__cut on a run of [\u4E00-\u9FD5]: Viterbi, then B/M/E/S */
static int
viterbi_cut(const SegObject *S, Work *w, const Py_UCS4 *s, Py_ssize_t a, Py_ssize_t b)
{
    Py_ssize_t T = b - a, i, begin, nexti;
    double prob;
    unsigned char *pos;
    if (T <= 0) return 0;
    pos = viterbi_core(S, w, s, a, b, &prob);
    if (!pos) return -1;
    {
        begin = 0;
        nexti = 0;
        for (i = 0; i < T; i++) {
            int p = pos[i];
            if (p == ST_B) {
                begin = i;
            } else if (p == ST_E) {
                if (hmm_word(S, w, s, a + begin, a + i + 1) < 0) return -1;
                nexti = i + 1;
            } else if (p == ST_S) {
                if (hmm_word(S, w, s, a + i, a + i + 1) < 0) return -1;
                nexti = i + 1;
            }
        }
        if (nexti < T)
            if (hmm_word(S, w, s, a + nexti, b) < 0) return -1;
    }
    return 0;
}

/* finalseg.cut on a buffer of one-character words */
static int
finalseg_cut(const SegObject *S, Work *w, const Py_UCS4 *s, Py_ssize_t a, Py_ssize_t b)
{
    Py_ssize_t i = a;
    while (i < b) {
        Py_ssize_t j = i;
        if (is_han(s[i])) {
            while (j < b && is_han(s[j])) j++;
            if (viterbi_cut(S, w, s, i, j) < 0) return -1;
        } else {
            /* re_skip.split: matches of [a-zA-Z0-9]+(?:\.\d+)?%? and the
               non-empty pieces between them */
            Py_ssize_t p, q;
            while (j < b && !is_han(s[j])) j++;
            p = q = i;
            while (q < j) {
                if (is_alnum(s[q])) {
                    Py_ssize_t r = q;
                    while (r < j && is_alnum(s[r])) r++;
                    if (r + 1 < j && s[r] == '.' && is_digit(s[r + 1])) {
                        r += 1;
                        while (r < j && is_digit(s[r])) r++;
                    }
                    if (r < j && s[r] == '%') r++;
                    if (q > p && emit_span(w, p, q) < 0) return -1;
                    if (emit_span(w, q, r) < 0) return -1;
                    p = q = r;
                } else {
                    q++;
                }
            }
            if (p < j && emit_span(w, p, j) < 0) return -1;
        }
        i = j;
    }
    return 0;
}

/* Tokenizer.calc: route[idx] for idx = N-1 .. 0 (positions relative to a) */
static int
calc_route(const SegObject *S, Work *w, const Py_UCS4 *s, Py_ssize_t a, Py_ssize_t N, double logtotal)
{
    const Trie *t = &S->trie;
    double *rp;
    Py_ssize_t *rx, idx;
    if (work_reserve_route(w, N) < 0) return -1;
    rp = w->rp;
    rx = w->rx;
    rp[N] = 0.0;
    rx[N] = 0;
    for (idx = N - 1; idx >= 0; idx--) {
        uint32_t node = 0;
        Py_ssize_t i, bx = -1;
        double best = 0.0;
        for (i = idx; i < N; i++) {
            node = trie_child(t, node, s[a + i]);
            if (node == NO_NODE) break;
            if (t->freq[node] > 0) {
                double val = t->logf[node] - logtotal + rp[i + 1];
                if (bx < 0 || val >= best) {
                    best = val;
                    bx = i;
                }
            }
        }
        if (bx < 0) {
            /* DAG[idx] = [idx]; FREQ.get(char) is absent or 0: log(1) */
            best = 0.0 - logtotal + rp[idx + 1];
            bx = idx;
        }
        rp[idx] = best;
        rx[idx] = bx;
    }
    return 0;
}

/* __cut_DAG's buffer of one-character words [bs, bs + bl) of the block at a:
   one character as it is; a run that is a dictionary word (freq > 0) character
   by character; any other run through finalseg's HMM. */
static int
flush_singles(const SegObject *S, Work *w, const Py_UCS4 *s, Py_ssize_t a, Py_ssize_t bs, Py_ssize_t bl)
{
    if (bl == 1)
        return emit_span(w, a + bs, a + bs + 1);
    uint32_t node = trie_find(&S->trie, s, a + bs, a + bs + bl);
    if (node == NO_NODE || S->trie.freq[node] == 0)
        return finalseg_cut(S, w, s, a + bs, a + bs + bl);
    for (Py_ssize_t k = bs; k < bs + bl; k++)
        if (emit_span(w, a + k, a + k + 1) < 0) return -1;
    return 0;
}

/* Tokenizer.__cut_DAG / __cut_DAG_NO_HMM on one block [a, b) */
static int
cut_block(const SegObject *S, Work *w, const Py_UCS4 *s, Py_ssize_t a, Py_ssize_t b, int hmm, double logtotal)
{
    Py_ssize_t N = b - a, x = 0, bs = 0, bl = 0;
    if (calc_route(S, w, s, a, N, logtotal) < 0) return -1;
    if (hmm) {
        while (x < N) {
            Py_ssize_t y = w->rx[x] + 1;
            if (y - x == 1) {
                if (bl == 0) bs = x;
                bl++;
            } else {
                if (bl) {
                    if (flush_singles(S, w, s, a, bs, bl) < 0) return -1;
                    bl = 0;
                }
                if (emit_span(w, a + x, a + y) < 0) return -1;
            }
            x = y;
        }
        if (bl && flush_singles(S, w, s, a, bs, bl) < 0) return -1;
    } else {
        while (x < N) {
            Py_ssize_t y = w->rx[x] + 1;
            if (y - x == 1 && is_alnum(s[a + x])) {
                if (bl == 0) bs = x;
                bl++;
            } else {
                if (bl) {
                    if (emit_span(w, a + bs, a + bs + bl) < 0) return -1;
                    bl = 0;
                }
                if (emit_span(w, a + x, a + y) < 0) return -1;
            }
            x = y;
        }
        if (bl && emit_span(w, a + bs, a + bs + bl) < 0) return -1;
    }
    return 0;
}

/* Tokenizer.cut(s, cut_all=False, HMM=hmm): spans appended to w */
static int
segment_text(const SegObject *S, Work *w, const Py_UCS4 *s, Py_ssize_t n, int hmm, double logtotal)
{
    Py_ssize_t i = 0;
    while (i < n) {
        if (is_block(s[i])) {
            Py_ssize_t j = i + 1;
            while (j < n && is_block(s[j])) j++;
            if (cut_block(S, w, s, i, j, hmm, logtotal) < 0) return -1;
            i = j;
        } else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
            if (emit_span(w, i, i + 2) < 0) return -1;
            i += 2;
        } else {
            if (emit_span(w, i, i + 1) < 0) return -1;
            i += 1;
        }
    }
    return 0;
}

/* copy any str into the work buffer as UCS4 (no Python calls: GIL-free) */
static int
load_text(Work *w, int kind, const void *data, Py_ssize_t n)
{
    Py_ssize_t i;
    if (n > w->txtcap) {
        Py_ssize_t nc = n + (n >> 1) + 64;
        Py_UCS4 *p = (Py_UCS4 *)PyMem_RawRealloc(w->txt, sizeof(Py_UCS4) * (size_t)nc);
        if (!p) return -1;
        w->txt = p;
        w->txtcap = nc;
    }
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *d = (const Py_UCS1 *)data;
        for (i = 0; i < n; i++) w->txt[i] = d[i];
    } else if (kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *d = (const Py_UCS2 *)data;
        for (i = 0; i < n; i++) w->txt[i] = d[i];
    } else {
        memcpy(w->txt, data, sizeof(Py_UCS4) * (size_t)n);
    }
    return 0;
}

static int
check_ready(SegObject *self)
{
    if (!self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "Segmenter is not initialised");
        return -1;
    }
    if (self->total <= 0) {
        /* log(total) in jieba */
        PyErr_SetString(PyExc_ValueError, "math domain error (dictionary total frequency is 0)");
        return -1;
    }
    return 0;
}

static PyObject *
spans_to_list(PyObject *text, const Span *sp, Py_ssize_t n)
{
    PyObject *out = PyList_New(n);
    Py_ssize_t i;
    if (!out) return NULL;
    for (i = 0; i < n; i++) {
        PyObject *tok = PyUnicode_Substring(text, sp[i].s, sp[i].e);
        if (!tok) { Py_DECREF(out); return NULL; }
        PyList_SET_ITEM(out, i, tok);
    }
    return out;
}

#define NOGIL_MIN_CHARS 4096

static PyObject *
Seg_cut(SegObject *self, PyObject *args)
{
    PyObject *text, *out;
    int hmm = 1, rc, kind;
    const void *data;
    Py_ssize_t n;
    double logtotal;
    Work w;
    if (!PyArg_ParseTuple(args, "U|p:cut", &text, &hmm)) return NULL;
    if (check_ready(self) < 0) return NULL;
    if (STR_READY(text) < 0) return NULL;
    memset(&w, 0, sizeof(w));
    kind = PyUnicode_KIND(text);
    data = PyUnicode_DATA(text);
    n = PyUnicode_GET_LENGTH(text);
    logtotal = log((double)self->total);
    if (n >= NOGIL_MIN_CHARS) {
        self->readers++;
        Py_BEGIN_ALLOW_THREADS
        rc = load_text(&w, kind, data, n);
        if (rc == 0) rc = segment_text(self, &w, w.txt, n, hmm, logtotal);
        Py_END_ALLOW_THREADS
        self->readers--;
    } else {
        rc = load_text(&w, kind, data, n);
        if (rc == 0) rc = segment_text(self, &w, w.txt, n, hmm, logtotal);
    }
    if (rc < 0) {
        work_free(&w);
        return PyErr_NoMemory();
    }
    out = spans_to_list(text, w.sp, w.n);
    work_free(&w);
    return out;
}

#define CHUNK_CHARS (1 << 16)

static PyObject *
Seg_cut_many(SegObject *self, PyObject *args)
{
    PyObject *seq, *tup = NULL, *out = NULL;
    int hmm = 1;
    Py_ssize_t n, i;
    Work w;
    Py_ssize_t *ends = NULL;
    double logtotal;
    int gc_was_enabled;
    if (!PyArg_ParseTuple(args, "O|p:cut_many", &seq, &hmm)) return NULL;
    if (check_ready(self) < 0) return NULL;
    /* a tuple keeps the strings alive even if the caller's list changes */
    tup = PySequence_Tuple(seq);
    if (!tup) return NULL;
    n = PyTuple_GET_SIZE(tup);
    for (i = 0; i < n; i++) {
        PyObject *t = PyTuple_GET_ITEM(tup, i);
        if (!PyUnicode_Check(t)) {
            PyErr_Format(PyExc_TypeError, "cut_many: item %zd is %.100s, not str", i, Py_TYPE(t)->tp_name);
            Py_DECREF(tup);
            return NULL;
        }
        if (STR_READY(t) < 0) { Py_DECREF(tup); return NULL; }
    }
    out = PyList_New(n);
    ends = (Py_ssize_t *)PyMem_RawMalloc(sizeof(Py_ssize_t) * (size_t)(n ? n : 1));
    if (!out || !ends) {
        Py_XDECREF(out);
        Py_DECREF(tup);
        PyMem_RawFree(ends);
        return PyErr_NoMemory();
    }
    memset(&w, 0, sizeof(w));
    logtotal = log((double)self->total);
    i = 0;
    while (i < n) {
        /* a chunk of texts, segmented without the GIL */
        Py_ssize_t j = i, chars = 0, k, prev;
        int rc = 0;
        while (j < n && (j == i || chars < CHUNK_CHARS)) {
            chars += PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(tup, j));
            j++;
        }
        w.n = 0;
        self->readers++;
        Py_BEGIN_ALLOW_THREADS
        for (k = i; k < j && rc == 0; k++) {
            PyObject *t = PyTuple_GET_ITEM(tup, k);
            Py_ssize_t len = PyUnicode_GET_LENGTH(t);
            rc = load_text(&w, PyUnicode_KIND(t), PyUnicode_DATA(t), len);
            if (rc == 0) rc = segment_text(self, &w, w.txt, len, hmm, logtotal);
            ends[k] = w.n;
        }
        Py_END_ALLOW_THREADS
        self->readers--;
        if (rc < 0) {
            PyErr_NoMemory();
            goto fail;
        }
        prev = 0;
        /* Building the lists runs no Python code, so pausing the cyclic GC
           here is invisible to other code; it saves repeated traversals of
           the growing result (one collection afterwards instead). */
        gc_was_enabled = PyGC_Disable();
        for (k = i; k < j; k++) {
            PyObject *lst = spans_to_list(PyTuple_GET_ITEM(tup, k), w.sp + prev, ends[k] - prev);
            if (!lst) break;
            PyList_SET_ITEM(out, k, lst);
            prev = ends[k];
        }
        if (gc_was_enabled) PyGC_Enable();
        if (k < j) goto fail;
        if (PyErr_CheckSignals() < 0) goto fail; /* Ctrl-C between chunks (milliseconds of work each) */
        i = j;
    }
    work_free(&w);
    PyMem_RawFree(ends);
    Py_DECREF(tup);
    return out;
fail:
    work_free(&w);
    PyMem_RawFree(ends);
    Py_DECREF(tup);
    Py_DECREF(out);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* the span cache (GIL held)                                            */

static int
same_text(PyObject *a, PyObject *b)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(a);
    int kind = PyUnicode_KIND(a);
    return a == b || (n == PyUnicode_GET_LENGTH(b) && kind == PyUnicode_KIND(b) &&
                      memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)n * (size_t)kind) == 0);
}

static const CacheEnt *
cache_find(const SpanCache *c, PyObject *t, uint64_t h, int hmm)
{
    size_t k;
    if (!c->scap) return NULL;
    k = (size_t)(h ^ (uint64_t)hmm) & (c->scap - 1);
    while (c->slot[k]) {
        const CacheEnt *e = c->ents[c->slot[k] - 1];
        if (e->hash == h && e->hmm == hmm && same_text(e->text, t)) return e;
        k = (k + 1) & (c->scap - 1);
    }
    return NULL;
}

static int
cache_rehash(SpanCache *c, size_t ncap)
{
    size_t i, k;
    uint32_t *ns = (uint32_t *)PyMem_RawCalloc(ncap, sizeof(uint32_t));
    if (!ns) return -1;
    for (i = 0; i < c->n; i++) {
        k = (size_t)(c->ents[i]->hash ^ (uint64_t)c->ents[i]->hmm) & (ncap - 1);
        while (ns[k]) k = (k + 1) & (ncap - 1);
        ns[k] = (uint32_t)(i + 1);
    }
    PyMem_RawFree(c->slot);
    c->slot = ns;
    c->scap = ncap;
    return 0;
}

/* keep text t's token lengths if the budget allows: 0 (kept or not), -1 no memory */
static int
cache_add(SpanCache *c, PyObject *t, uint64_t h, int hmm, const uint8_t *lens, uint32_t ntok)
{
    CacheEnt *e;
    if (c->tokens + ntok + 1 > c->max_tokens || c->n >= 0xFFFFFFF0u) return 0;
    if (cache_find(c, t, h, hmm)) return 0; /* another call kept it meanwhile */
    if ((c->n + 1) * 2 > c->scap && cache_rehash(c, c->scap ? c->scap * 2 : 1024) < 0) return -1;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 256;
        CacheEnt **p = (CacheEnt **)PyMem_RawRealloc(c->ents, nc * sizeof(CacheEnt *));
        if (!p) return -1;
        c->ents = p;
        c->cap = nc;
    }
    e = (CacheEnt *)PyMem_RawMalloc(sizeof(CacheEnt));
    if (!e) return -1;
    e->lens = (uint8_t *)PyMem_RawMalloc(ntok ? ntok : 1);
    if (!e->lens) {
        PyMem_RawFree(e);
        return -1;
    }
    memcpy(e->lens, lens, ntok);
    e->ntok = ntok;
    e->hash = h;
    e->hmm = hmm;
    e->text = Py_NewRef(t);
    c->ents[c->n++] = e;
    {
        size_t k = (size_t)(h ^ (uint64_t)hmm) & (c->scap - 1);
        while (c->slot[k]) k = (k + 1) & (c->scap - 1);
        c->slot[k] = (uint32_t)c->n;
    }
    c->tokens += ntok + 1;
    return 0;
}

static void
cache_clear(SpanCache *c)
{
    size_t i, max = c->max_tokens;
    for (i = 0; i < c->n; i++) {
        Py_DECREF(c->ents[i]->text);
        PyMem_RawFree(c->ents[i]->lens);
        PyMem_RawFree(c->ents[i]);
    }
    PyMem_RawFree(c->ents);
    PyMem_RawFree(c->slot);
    memset(c, 0, sizeof(*c));
    c->max_tokens = max;
}

/* ------------------------------------------------------------------ */
/* encode_many: token ids, without token objects                        */
/* ------------------------------------------------------------------ */
/* When tokens are only counted (BLEU, ROUGE, Distinct), building one str
 * object per token is most of the work left after segmentation, and it
 * needs the GIL.  encode_many interns each token's characters into a
 * vocabulary of ids instead, in worker threads that never touch Python
 * objects; only the distinct tokens become str objects, once, at the end.
 * Equal texts are segmented once.  Ids are assigned in order of first
 * occurrence, so the result does not depend on the number of threads. */

typedef struct {
    uint32_t *slot;     /* open addressing: ids, 0 = empty */
    size_t cap;         /* power of two */
    Py_UCS4 *arena;     /* the characters of every token, one after another */
    size_t alen, acap;
    size_t *at;         /* per id: offset in arena */
    uint32_t *len;      /* per id: length */
    uint64_t *hash;     /* per id: hash */
    size_t n, idcap;    /* ids are 1..n */
} Vocab;

static void
vocab_free(Vocab *v)
{
    PyMem_RawFree(v->slot);
    PyMem_RawFree(v->arena);
    PyMem_RawFree(v->at);
    PyMem_RawFree(v->len);
    PyMem_RawFree(v->hash);
    memset(v, 0, sizeof(*v));
}

static int
vocab_init(Vocab *v)
{
    memset(v, 0, sizeof(*v));
    v->cap = 1024;
    v->slot = (uint32_t *)PyMem_RawCalloc(v->cap, sizeof(uint32_t));
    v->idcap = 512;
    v->at = (size_t *)PyMem_RawMalloc(v->idcap * sizeof(size_t));
    v->len = (uint32_t *)PyMem_RawMalloc(v->idcap * sizeof(uint32_t));
    v->hash = (uint64_t *)PyMem_RawMalloc(v->idcap * sizeof(uint64_t));
    v->acap = 4096;
    v->arena = (Py_UCS4 *)PyMem_RawMalloc(v->acap * sizeof(Py_UCS4));
    if (!v->slot || !v->at || !v->len || !v->hash || !v->arena) {
        vocab_free(v);
        return -1;
    }
    return 0;
}

Py_LOCAL_INLINE(uint64_t)
ucs4_hash(const Py_UCS4 *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
    size_t i;
    for (i = 0; i < n; i++) {
        h = (h ^ s[i]) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
    }
    h *= 0x94D049BB133111EBull;
    h ^= h >> 29;
    return h;
}

static int
vocab_grow(Vocab *v)
{
    size_t ncap = v->cap * 2, k, id;
    uint32_t *ns = (uint32_t *)PyMem_RawCalloc(ncap, sizeof(uint32_t));
    if (!ns) return -1;
    for (id = 1; id <= v->n; id++) {
        k = (size_t)v->hash[id] & (ncap - 1);
        while (ns[k]) k = (k + 1) & (ncap - 1);
        ns[k] = (uint32_t)id;
    }
    PyMem_RawFree(v->slot);
    v->slot = ns;
    v->cap = ncap;
    return 0;
}

/* the id of the token s[0..n) with hash h, added if new; 0 = out of memory */
static uint32_t
vocab_id(Vocab *v, const Py_UCS4 *s, size_t n, uint64_t h)
{
    size_t mask = v->cap - 1, k = (size_t)h & mask;
    uint32_t id;
    while ((id = v->slot[k]) != 0) {
        if (v->hash[id] == h && v->len[id] == n && memcmp(v->arena + v->at[id], s, n * sizeof(Py_UCS4)) == 0)
            return id;
        k = (k + 1) & mask;
    }
    if (v->n + 2 >= v->idcap) {
        size_t nc = v->idcap * 2;
        size_t *at = (size_t *)PyMem_RawRealloc(v->at, nc * sizeof(size_t));
        if (!at) return 0;
        v->at = at;
        uint32_t *ln = (uint32_t *)PyMem_RawRealloc(v->len, nc * sizeof(uint32_t));
        if (!ln) return 0;
        v->len = ln;
        uint64_t *hs = (uint64_t *)PyMem_RawRealloc(v->hash, nc * sizeof(uint64_t));
        if (!hs) return 0;
        v->hash = hs;
        v->idcap = nc;
    }
    if (v->n >= 0xFFFFFFF0u) return 0;
    if (v->alen + n > v->acap) {
        size_t nc = v->acap * 2;
        while (nc < v->alen + n) nc *= 2;
        Py_UCS4 *a = (Py_UCS4 *)PyMem_RawRealloc(v->arena, nc * sizeof(Py_UCS4));
        if (!a) return 0;
        v->arena = a;
        v->acap = nc;
    }
    id = (uint32_t)++v->n;
    memcpy(v->arena + v->alen, s, n * sizeof(Py_UCS4));
    v->at[id] = v->alen;
    v->len[id] = (uint32_t)n;
    v->hash[id] = h;
    v->alen += n;
    v->slot[k] = id;
    if (v->n * 2 > v->cap && vocab_grow(v) < 0) return 0;
    return id;
}

/* one worker's share: texts [a, b) */
typedef struct {
    const SegObject *S;
    const int *kind;
    const void *const *data;
    const Py_ssize_t *len;
    const Py_ssize_t *dup;    /* -1, or an earlier text with the same characters */
    Py_ssize_t a, b;
    int hmm, drop;
    double logtotal;
    Vocab v;
    uint32_t *tok;            /* local ids, a slot per character of the share */
    size_t ntok;
    size_t *end;              /* per text of [a, b): end of its ids in tok */
    int rc;
    volatile int *cancel;
    volatile Py_ssize_t done; /* texts finished (read for progress only) */
    const CacheEnt *const *hit; /* per text: its cache entry, or NULL */
    int record;               /* keep the token lengths of texts cut here */
    uint8_t *rec;             /* ... one after another */
    size_t nrec, rcap;
    size_t *rec_end;          /* per text of [a, b): end of its lengths in rec */
    uint8_t *rec_ok;          /* per text: cut here, no token over 255 */
} EncJob;

Py_LOCAL_INLINE(int)
all_space(const Py_UCS4 *s, Py_ssize_t n)
{
    Py_ssize_t i;
    for (i = 0; i < n; i++)
        if (!Py_UNICODE_ISSPACE(s[i])) return 0;
    return 1;
}

/* one token: dropped if whitespace (drop_space), else its id appended */
Py_LOCAL_INLINE(int)
enc_token(EncJob *j, const Py_UCS4 *s, size_t m)
{
    uint32_t id;
    if (j->drop && all_space(s, (Py_ssize_t)m)) return 0;
    id = vocab_id(&j->v, s, m, ucs4_hash(s, m));
    if (!id) return -1;
    j->tok[j->ntok++] = id; /* tok holds a slot per character: never full */
    return 0;
}

static void
enc_job_run(EncJob *j)
{
    Work w;
    Py_ssize_t k, q;
    memset(&w, 0, sizeof(w));
    j->rc = 0;
    for (k = j->a; k < j->b; k++) {
        if (*j->cancel) { j->rc = -2; break; }
        if (j->dup[k] < 0) {
            Py_ssize_t n = j->len[k];
            const CacheEnt *hit = j->hit ? j->hit[k] : NULL;
            if (load_text(&w, j->kind[k], j->data[k], n) < 0) { j->rc = -1; break; }
            if (hit) { /* cut in an earlier call: its token lengths */
                Py_ssize_t s = 0;
                uint32_t t;
                for (t = 0; t < hit->ntok && !j->rc; t++) {
                    if (enc_token(j, w.txt + s, hit->lens[t]) < 0) j->rc = -1;
                    s += hit->lens[t];
                }
                if (j->rc) break;
            } else {
                w.n = 0;
                if (segment_text(j->S, &w, w.txt, n, j->hmm, j->logtotal) < 0) { j->rc = -1; break; }
                for (q = 0; q < w.n; q++)
                    if (enc_token(j, w.txt + w.sp[q].s, (size_t)(w.sp[q].e - w.sp[q].s)) < 0) { j->rc = -1; break; }
                if (j->rc) break;
                if (j->record) {
                    int ok = 1;
                    if (j->nrec + (size_t)w.n > j->rcap) {
                        size_t nc = j->rcap ? j->rcap * 2 : 65536;
                        while (nc < j->nrec + (size_t)w.n) nc *= 2;
                        uint8_t *r = (uint8_t *)PyMem_RawRealloc(j->rec, nc);
                        if (!r) { j->rc = -1; break; }
                        j->rec = r;
                        j->rcap = nc;
                    }
                    for (q = 0; q < w.n && ok; q++) {
                        Py_ssize_t m = w.sp[q].e - w.sp[q].s;
                        if (m > 255) ok = 0;
                        else j->rec[j->nrec++] = (uint8_t)m;
                    }
                    if (!ok) j->nrec = k == j->a ? 0 : j->rec_end[k - j->a - 1];
                    j->rec_ok[k - j->a] = (uint8_t)ok;
                }
            }
        }
        if (j->record) j->rec_end[k - j->a] = j->nrec;
        j->end[k - j->a] = j->ntok;
        j->done = k - j->a + 1;
    }
    work_free(&w);
}

/* hash of a text's code units (equal strs have equal kind and units) */
static uint64_t
text_hash(int kind, const void *data, Py_ssize_t n)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t nbytes = (size_t)n * (size_t)kind;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)nbytes * 0xFF51AFD7ED558CCDull) ^ (uint64_t)kind;
    while (nbytes >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        h = (h ^ x) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 29;
        p += 8;
        nbytes -= 8;
    }
    if (nbytes) {
        uint64_t x = 0;
        memcpy(&x, p, nbytes);
        h = (h ^ x) * 0x94D049BB133111EBull;
    }
    h ^= h >> 32;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return h;
}

/* dup[k] = the first earlier text equal to text k, or -1; 0 or -1 (memory) */
static int
find_duplicates(Py_ssize_t n, const int *kind, const void *const *data, const Py_ssize_t *len, Py_ssize_t *dup,
                uint64_t *hs)
{
    size_t cap = 16, mask, k;
    Py_ssize_t i;
    while (cap < (size_t)n * 2) cap *= 2;
    mask = cap - 1;
    Py_ssize_t *slot = (Py_ssize_t *)PyMem_RawMalloc(cap * sizeof(Py_ssize_t));
    if (!slot) return -1;
    for (k = 0; k < cap; k++) slot[k] = -1;
    for (i = 0; i < n; i++) {
        uint64_t h = text_hash(kind[i], data[i], len[i]);
        hs[i] = h;
        dup[i] = -1;
        k = (size_t)h & mask;
        for (;;) {
            Py_ssize_t o = slot[k];
            if (o < 0) {
                slot[k] = i;
                break;
            }
            if (hs[o] == h && kind[o] == kind[i] && len[o] == len[i] &&
                memcmp(data[o], data[i], (size_t)len[i] * (size_t)kind[i]) == 0) {
                dup[i] = o;
                break;
            }
            k = (k + 1) & mask;
        }
    }
    PyMem_RawFree(slot);
    return 0;
}

#define ENC_MIN_CHARS_PER_SHARE 8192
#define ENC_SHARES_PER_THREAD 4

/* Worker threads take shares from a common counter: several shares per
 * thread even out texts of unequal cost.  Phase 0 segments a share, phase 1
 * writes its ids (translated to the common vocabulary) into the output. */
typedef struct {
    EncJob *shares;
    Py_ssize_t nshares;
    Py_ssize_t next;
    int phase;
    uint32_t **remap;      /* phase 1: per share, local id -> common id (NULL: same) */
    uint32_t *out;
    const int64_t *off;
    PyThread_type_lock qlock;
} EncPool;

typedef struct {
    EncPool *pool;
    PyThread_type_lock done;
} EncWorker;

static void
enc_emit(EncPool *P, Py_ssize_t k)
{
    EncJob *j = &P->shares[k];
    const uint32_t *map = P->remap[k];
    Py_ssize_t i;
    for (i = j->a; i < j->b; i++) {
        if (j->dup[i] >= 0) continue; /* copied afterwards, from its original */
        size_t s = i == j->a ? 0 : j->end[i - j->a - 1], e = j->end[i - j->a], q;
        uint32_t *dst = P->out + P->off[i];
        if (map)
            for (q = s; q < e; q++) *dst++ = map[j->tok[q]];
        else
            memcpy(dst, j->tok + s, (e - s) * sizeof(uint32_t));
    }
}

static void
enc_pool_run(EncPool *P)
{
    for (;;) {
        Py_ssize_t k;
        PyThread_acquire_lock(P->qlock, WAIT_LOCK);
        k = P->next++;
        PyThread_release_lock(P->qlock);
        if (k >= P->nshares) break;
        if (P->phase == 0) enc_job_run(&P->shares[k]);
        else enc_emit(P, k);
    }
}

static void
enc_worker_thread(void *arg)
{
    EncWorker *w = (EncWorker *)arg;
    enc_pool_run(w->pool);
    PyThread_release_lock(w->done);
}

/* Run a phase on ``threads`` worker threads while this thread waits (GIL
 * released), reporting progress and watching for Ctrl-C.  0, or -1 with a
 * Python error set (the workers have finished either way). */
#define SMALL_CORPUS 2048 /* texts: well under a second of work in any but freak cases */

static int
enc_pool_phase(EncPool *P, int phase, int threads, PyObject *progress, volatile int *cancel, Py_ssize_t n_texts)
{
    EncWorker *ws;
    int t, started = 0, rc = 0;
    P->phase = phase;
    P->next = 0;
    /* a small corpus in this thread; a larger one on a worker while this
       thread watches for Ctrl-C (below), even with one thread */
    if (threads == 1 && progress == Py_None && n_texts < SMALL_CORPUS) {
        Py_BEGIN_ALLOW_THREADS
        enc_pool_run(P);
        Py_END_ALLOW_THREADS
        return 0;
    }
    ws = (EncWorker *)PyMem_RawCalloc((size_t)threads, sizeof(EncWorker));
    if (!ws) {
        PyErr_NoMemory();
        return -1;
    }
    for (t = 0; t < threads; t++) {
        ws[t].pool = P;
        ws[t].done = PyThread_allocate_lock();
        if (!ws[t].done) break;
        PyThread_acquire_lock(ws[t].done, WAIT_LOCK);
        if (PyThread_start_new_thread(enc_worker_thread, &ws[t]) == PYTHREAD_INVALID_THREAD_ID) {
            PyThread_release_lock(ws[t].done);
            PyThread_free_lock(ws[t].done);
            ws[t].done = NULL;
            break;
        }
        started++;
    }
    if (started == 0) {
        /* no thread could be started: do the work here */
        Py_BEGIN_ALLOW_THREADS
        enc_pool_run(P);
        Py_END_ALLOW_THREADS
    }
    Py_ssize_t last = -1;
    for (t = 0; t < started; t++) {
        for (;;) {
            PyLockStatus st;
            Py_BEGIN_ALLOW_THREADS
            st = PyThread_acquire_lock_timed(ws[t].done, 100000, 0);
            Py_END_ALLOW_THREADS
            if (st == PY_LOCK_ACQUIRED) break;
            if (!*cancel && PyErr_CheckSignals() < 0) {
                *cancel = 1;
                rc = -1;
            }
            if (!*cancel && phase == 0 && progress != Py_None) {
                Py_ssize_t d = 0, u;
                for (u = 0; u < P->nshares; u++) d += P->shares[u].done;
                if (d != last) {
                    PyObject *r = PyObject_CallFunction(progress, "n", d);
                    if (!r) {
                        *cancel = 1;
                        rc = -1;
                    }
                    Py_XDECREF(r);
                    last = d;
                }
            }
        }
        PyThread_release_lock(ws[t].done);
        PyThread_free_lock(ws[t].done);
    }
    PyMem_RawFree(ws);
    if (rc == 0 && phase == 0 && progress != Py_None) {
        PyObject *r = PyObject_CallFunction(progress, "n", n_texts);
        if (!r) {
            *cancel = 1;
            rc = -1;
        }
        Py_XDECREF(r);
    }
    return rc;
}

static PyObject *
Seg_encode_many(SegObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"texts", "hmm", "drop_space", "threads", "progress", NULL};
    PyObject *seq, *tup = NULL, *progress = Py_None, *result = NULL;
    PyObject *tok_b = NULL, *off_b = NULL, *vocab = NULL;
    int hmm = 1, drop = 1, threads = 1;
    volatile int cancel = 0;
    Py_ssize_t n, i, k, nshares = 0, ninit = 0;
    int *kind = NULL;
    const void **data = NULL;
    Py_ssize_t *len = NULL, *dup = NULL;
    uint64_t *hs = NULL;
    const CacheEnt **hit = NULL;
    int use_cache = self->cache.max_tokens > 0, record = 0;
    EncJob *shares = NULL;
    uint32_t **remap = NULL;
    EncPool P;
    memset(&P, 0, sizeof(P));
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|ppiO:encode_many", kwlist, &seq, &hmm, &drop, &threads, &progress))
        return NULL;
    if (check_ready(self) < 0) return NULL;
    if (threads < 1) threads = 1;
    if (progress != Py_None && !PyCallable_Check(progress)) {
        PyErr_SetString(PyExc_TypeError, "encode_many: progress must be callable or None");
        return NULL;
    }
    tup = PySequence_Tuple(seq);
    if (!tup) return NULL;
    n = PyTuple_GET_SIZE(tup);
    kind = (int *)PyMem_RawMalloc(sizeof(int) * (size_t)(n + 1));
    data = (const void **)PyMem_RawMalloc(sizeof(void *) * (size_t)(n + 1));
    len = (Py_ssize_t *)PyMem_RawMalloc(sizeof(Py_ssize_t) * (size_t)(n + 1));
    dup = (Py_ssize_t *)PyMem_RawMalloc(sizeof(Py_ssize_t) * (size_t)(n + 1));
    hs = (uint64_t *)PyMem_RawMalloc(sizeof(uint64_t) * (size_t)(n + 1));
    hit = (const CacheEnt **)PyMem_RawCalloc((size_t)(n + 1), sizeof(CacheEnt *));
    if (!kind || !data || !len || !dup || !hs || !hit) {
        PyErr_NoMemory();
        goto done;
    }
    for (i = 0; i < n; i++) {
        PyObject *s = PyTuple_GET_ITEM(tup, i);
        if (!PyUnicode_Check(s)) {
            PyErr_Format(PyExc_TypeError, "encode_many: item %zd is %.100s, not str", i, Py_TYPE(s)->tp_name);
            goto done;
        }
        if (STR_READY(s) < 0) goto done;
        kind[i] = PyUnicode_KIND(s);
        data[i] = PyUnicode_DATA(s);
        len[i] = PyUnicode_GET_LENGTH(s);
    }
    {
        int rc;
        Py_BEGIN_ALLOW_THREADS
        rc = find_duplicates(n, kind, data, len, dup, hs);
        Py_END_ALLOW_THREADS
        if (rc < 0) {
            PyErr_NoMemory();
            goto done;
        }
    }
    if (use_cache) {
        /* entries found here stay valid until readers drops back (no clear
           meanwhile; adding never moves an entry) */
        for (i = 0; i < n; i++)
            if (dup[i] < 0) hit[i] = cache_find(&self->cache, PyTuple_GET_ITEM(tup, i), hs[i], hmm);
        record = self->cache.tokens < self->cache.max_tokens;
    }
    /* contiguous shares of about equal size (in characters to segment) */
    Py_ssize_t work_chars = 0;
    for (i = 0; i < n; i++)
        if (dup[i] < 0) work_chars += len[i];
    nshares = threads == 1 ? 1 : (Py_ssize_t)threads * ENC_SHARES_PER_THREAD;
    if (nshares > work_chars / ENC_MIN_CHARS_PER_SHARE)
        nshares = work_chars / ENC_MIN_CHARS_PER_SHARE > 0 ? work_chars / ENC_MIN_CHARS_PER_SHARE : 1;
    if (threads > nshares) threads = (int)nshares;
    shares = (EncJob *)PyMem_RawCalloc((size_t)nshares, sizeof(EncJob));
    remap = (uint32_t **)PyMem_RawCalloc((size_t)nshares, sizeof(uint32_t *));
    P.qlock = PyThread_allocate_lock();
    if (!shares || !remap || !P.qlock) {
        PyErr_NoMemory();
        goto done;
    }
    {
        double logtotal = log((double)self->total);
        Py_ssize_t a = 0, acc = 0;
        for (k = 0; k < nshares; k++) {
            EncJob *j = &shares[k];
            Py_ssize_t target = (Py_ssize_t)((double)work_chars * (double)(k + 1) / (double)nshares);
            Py_ssize_t b = a, share = 0, q;
            if (k == nshares - 1) b = n;
            else while (b < n && acc < target) { if (dup[b] < 0) acc += len[b]; b++; }
            j->S = self;
            j->kind = kind;
            j->data = data;
            j->len = len;
            j->dup = dup;
            j->a = a;
            j->b = b;
            j->hmm = hmm;
            j->drop = drop;
            j->logtotal = logtotal;
            j->cancel = &cancel;
            j->hit = use_cache ? hit : NULL;
            j->record = record;
            ninit = k + 1;
            if (record) {
                j->rec_end = (size_t *)PyMem_RawMalloc(sizeof(size_t) * (size_t)(b - a + 1));
                j->rec_ok = (uint8_t *)PyMem_RawCalloc((size_t)(b - a + 1), 1);
                if (!j->rec_end || !j->rec_ok) {
                    PyErr_NoMemory();
                    goto done;
                }
            }
            j->end = (size_t *)PyMem_RawMalloc(sizeof(size_t) * (size_t)(b - a + 1));
            /* a token has at least one character: the share's characters
               bound its ids, so the array never moves (pages beyond the ids
               written are never touched) */
            for (q = a; q < b; q++)
                if (dup[q] < 0) share += len[q];
            j->tok = (uint32_t *)PyMem_RawMalloc(((size_t)share + 1) * sizeof(uint32_t));
            if (!j->end || !j->tok || vocab_init(&j->v) < 0) {
                PyErr_NoMemory();
                goto done;
            }
            a = b;
        }
    }
    P.shares = shares;
    P.nshares = nshares;
    self->readers++;
    int prc = enc_pool_phase(&P, 0, threads, progress, &cancel, n);
    self->readers--;
    if (prc < 0) goto done;
    for (k = 0; k < nshares; k++) {
        if (shares[k].rc) {
            PyErr_NoMemory();
            goto done;
        }
    }
    if (record) {
        /* keep the texts cut in this call, first come first kept */
        for (k = 0; k < nshares; k++) {
            EncJob *j = &shares[k];
            for (i = j->a; i < j->b; i++) {
                if (!j->rec_ok[i - j->a]) continue;
                size_t e = j->rec_end[i - j->a], s0 = i == j->a ? 0 : j->rec_end[i - j->a - 1];
                if (cache_add(&self->cache, PyTuple_GET_ITEM(tup, i), hs[i], hmm, j->rec + s0,
                              (uint32_t)(e - s0)) < 0) {
                    PyErr_NoMemory();
                    goto done;
                }
            }
        }
    }
    {
        /* one vocabulary: the first share's, extended share by share, so ids
           follow the order of first occurrence whatever the split */
        Vocab *g = &shares[0].v;
        int oom = 0;
        size_t ntok = 0;
        Py_BEGIN_ALLOW_THREADS
        for (k = 1; k < nshares && !oom; k++) {
            Vocab *v = &shares[k].v;
            size_t id;
            remap[k] = (uint32_t *)PyMem_RawMalloc(sizeof(uint32_t) * (v->n + 1));
            if (!remap[k]) { oom = 1; break; }
            for (id = 1; id <= v->n; id++) {
                remap[k][id] = vocab_id(g, v->arena + v->at[id], v->len[id], v->hash[id]);
                if (!remap[k][id]) { oom = 1; break; }
            }
        }
        Py_END_ALLOW_THREADS
        if (oom) {
            PyErr_NoMemory();
            goto done;
        }
        /* ids per text (a duplicate has its original's), then offsets */
        for (k = 0; k < nshares; k++) {
            EncJob *j = &shares[k];
            for (i = j->a; i < j->b; i++) {
                size_t e = j->end[i - j->a], s = i == j->a ? 0 : j->end[i - j->a - 1];
                len[i] = (Py_ssize_t)(e - s); /* len is free for reuse now */
            }
        }
        for (i = 0; i < n; i++) {
            if (dup[i] >= 0) len[i] = len[dup[i]];
            ntok += (size_t)len[i];
        }
        tok_b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(ntok * sizeof(uint32_t)));
        off_b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)((size_t)(n + 1) * sizeof(int64_t)));
        vocab = PyList_New((Py_ssize_t)g->n);
        if (!tok_b || !off_b || !vocab) goto done;
        int64_t *off = (int64_t *)PyBytes_AS_STRING(off_b);
        off[0] = 0;
        for (i = 0; i < n; i++) off[i + 1] = off[i] + len[i];
        P.remap = remap;
        P.out = (uint32_t *)PyBytes_AS_STRING(tok_b);
        P.off = off;
        if (enc_pool_phase(&P, 1, threads, Py_None, &cancel, n) < 0) goto done;
        for (i = 0; i < n; i++)
            if (dup[i] >= 0)
                memcpy(P.out + off[i], P.out + off[dup[i]], sizeof(uint32_t) * (size_t)len[i]);
        for (size_t id = 1; id <= g->n; id++) {
            PyObject *s = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, g->arena + g->at[id], (Py_ssize_t)g->len[id]);
            if (!s) goto done;
            PyList_SET_ITEM(vocab, (Py_ssize_t)id - 1, s);
        }
        result = PyTuple_Pack(3, tok_b, off_b, vocab);
    }
done:
    Py_XDECREF(tok_b);
    Py_XDECREF(off_b);
    Py_XDECREF(vocab);
    if (shares) {
        for (k = 0; k < ninit; k++) {
            vocab_free(&shares[k].v);
            PyMem_RawFree(shares[k].tok);
            PyMem_RawFree(shares[k].end);
            PyMem_RawFree(shares[k].rec);
            PyMem_RawFree(shares[k].rec_end);
            PyMem_RawFree(shares[k].rec_ok);
        }
        PyMem_RawFree(shares);
    }
    if (remap) {
        for (k = 0; k < nshares; k++) PyMem_RawFree(remap[k]);
        PyMem_RawFree(remap);
    }
    if (P.qlock) PyThread_free_lock(P.qlock);
    PyMem_RawFree(kind);
    PyMem_RawFree(data);
    PyMem_RawFree(len);
    PyMem_RawFree(dup);
    PyMem_RawFree(hs);
    PyMem_RawFree((void *)hit);
    Py_XDECREF(tup);
    return result;
}

static PyObject *
Seg_set_cache_limit(SegObject *self, PyObject *arg)
{
    Py_ssize_t v = PyLong_AsSsize_t(arg);
    if (v == -1 && PyErr_Occurred()) return NULL;
    if (v < 0) {
        PyErr_SetString(PyExc_ValueError, "set_cache_limit: the limit is a number of tokens, >= 0");
        return NULL;
    }
    self->cache.max_tokens = (size_t)v;
    Py_RETURN_NONE;
}

static PyObject *
Seg_clear_cache(SegObject *self, PyObject *Py_UNUSED(ignored))
{
    if (self->readers) {
        PyErr_SetString(PyExc_RuntimeError, "clear_cache: a call is segmenting without the GIL");
        return NULL;
    }
    cache_clear(&self->cache);
    Py_RETURN_NONE;
}

static PyObject *
Seg_cache_info(SegObject *self, PyObject *Py_UNUSED(ignored))
{
    return Py_BuildValue("(nnn)", (Py_ssize_t)self->cache.n, (Py_ssize_t)self->cache.tokens,
                         (Py_ssize_t)self->cache.max_tokens);
}

/* ------------------------------------------------------------------ */
/* loading                                                              */

/* strict UTF-8 decoding of one code point, as Python's decoder accepts it;
   returns the number of bytes, or 0 when invalid */
Py_LOCAL_INLINE(int)
utf8_next(const unsigned char *p, const unsigned char *end, Py_UCS4 *out)
{
    unsigned char c = p[0];
    if (c < 0x80) { *out = c; return 1; }
    if (c >= 0xC2 && c <= 0xDF) {
        if (end - p < 2 || (p[1] & 0xC0) != 0x80) return 0;
        *out = ((Py_UCS4)(c & 0x1F) << 6) | (p[1] & 0x3F);
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        Py_UCS4 v;
        if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        v = ((Py_UCS4)(c & 0x0F) << 12) | ((Py_UCS4)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
        if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF)) return 0;
        *out = v;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        Py_UCS4 v;
        if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        v = ((Py_UCS4)(c & 0x07) << 18) | ((Py_UCS4)(p[1] & 0x3F) << 12) | ((Py_UCS4)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
        if (v < 0x10000 || v > 0x10FFFF) return 0;
        *out = v;
        return 4;
    }
    return 0;
}

Py_LOCAL_INLINE(int)
ascii_space(unsigned char c)
{
    /* bytes.strip() with no argument */
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0b || c == 0x0c;
}

static int
set_word(SegObject *self, uint32_t node, int64_t freq)
{
    Trie *t = &self->trie;
    t->freq[node] = freq;
    t->logf[node] = freq > 0 ? log((double)freq) : 0.0;
    return 0;
}

/* Tokenizer.gen_pfdict over the bytes of dict.txt.  Lines are what a
   binary file iterates (split after b'\n'); each is stripped, decoded,
   split on ' ' and its second field parsed as the frequency.  Anything
   jieba would reject, or whose int() we do not replicate (signs,
   underscores, non-ASCII digits), raises ValueError with the line number,
   so that the caller can fall back to jieba itself. */
static int
parse_dict(SegObject *self, const unsigned char *buf, Py_ssize_t len)
{
    const unsigned char *p = buf, *end = buf + len;
    Py_ssize_t lineno = 0;
    Py_UCS4 *word = NULL;
    Py_ssize_t wcap = 0;
    while (p < end) {
        const unsigned char *ls = p, *le, *q, *sp1, *fe;
        const unsigned char *nl = (const unsigned char *)memchr(p, '\n', (size_t)(end - p));
        Py_ssize_t wl = 0, k;
        int64_t freq = 0;
        uint32_t node = 0;
        lineno++;
        le = nl ? nl + 1 : end;
        p = le;
        while (ls < le && ascii_space(*ls)) ls++;
        while (le > ls && ascii_space(le[-1])) le--;
        /* the whole stripped line must decode */
        for (q = ls; q < le;) {
            Py_UCS4 cp;
            int nb = utf8_next(q, le, &cp);
            if (!nb) goto bad;
            q += nb;
        }
        sp1 = (const unsigned char *)memchr(ls, ' ', (size_t)(le - ls));
        if (!sp1) goto bad;
        fe = (const unsigned char *)memchr(sp1 + 1, ' ', (size_t)(le - sp1 - 1));
        if (!fe) fe = le;
        if (fe == sp1 + 1 || fe - sp1 - 1 > 18) goto bad;
        for (q = sp1 + 1; q < fe; q++) {
            if (*q < '0' || *q > '9') goto bad;
            freq = freq * 10 + (*q - '0');
        }
        if (freq > FREQ_MAX || self->total > FREQ_MAX) goto bad;
        /* the word, as code points */
        if (sp1 - ls > wcap) {
            Py_UCS4 *nw;
            wcap = (sp1 - ls) + 64;
            nw = (Py_UCS4 *)PyMem_RawRealloc(word, sizeof(Py_UCS4) * (size_t)wcap);
            if (!nw) { PyMem_RawFree(word); PyErr_NoMemory(); return -1; }
            word = nw;
        }
        for (q = ls; q < sp1;) {
            Py_UCS4 cp;
            int nb = utf8_next(q, sp1, &cp);
            if (!nb) goto bad;
            word[wl++] = cp;
            q += nb;
        }
        if (wl == 0) {
            /* an empty word: jieba stores FREQ[''] which no lookup can
               reach; only the total changes */
            self->total += freq;
            continue;
        }
        for (k = 0; k < wl; k++) {
            node = trie_child_make(&self->trie, node, word[k]);
            if (node == NO_NODE) { PyMem_RawFree(word); PyErr_NoMemory(); return -1; }
        }
        set_word(self, node, freq);
        self->total += freq;
    }
    PyMem_RawFree(word);
    return 0;
bad:
    PyMem_RawFree(word);
    PyErr_Format(PyExc_ValueError, "dictionary line %zd: not in the plain 'word freq [tag]' form", lineno);
    return -1;
}

static int
get_prob(PyObject *dict, const char *key, double *out, int required)
{
    PyObject *v = PyDict_GetItemString(dict, key); /* borrowed */
    if (!v) {
        if (required) {
            PyErr_Format(PyExc_ValueError, "HMM table has no state %s", key);
            return -1;
        }
        *out = MIN_FLOAT;
        return 0;
    }
    *out = PyFloat_AsDouble(v);
    if (*out == -1.0 && PyErr_Occurred()) return -1;
    return 0;
}

static int
load_hmm(SegObject *self, PyObject *start, PyObject *trans, PyObject *emit)
{
    int y, y2;
    char key[2] = {0, 0};
    if (!PyDict_Check(start) || !PyDict_Check(trans) || !PyDict_Check(emit)) {
        PyErr_SetString(PyExc_TypeError, "HMM tables must be dicts");
        return -1;
    }
    self->emit_p = (double *)PyMem_RawMalloc(sizeof(double) * 4 * HAN_N);
    if (!self->emit_p) { PyErr_NoMemory(); return -1; }
    for (y = 0; y < 4 * HAN_N; y++) self->emit_p[y] = MIN_FLOAT;
    for (y = 0; y < 4; y++) {
        PyObject *row, *k, *v;
        Py_ssize_t pos = 0;
        key[0] = STATE_CHARS[y];
        if (get_prob(start, key, &self->start_p[y], 1) < 0) return -1;
        row = PyDict_GetItemString(trans, key);
        if (!row || !PyDict_Check(row)) {
            PyErr_Format(PyExc_ValueError, "transition table has no state %s", key);
            return -1;
        }
        for (y2 = 0; y2 < 4; y2++) {
            char k2[2] = {STATE_CHARS[y2], 0};
            if (get_prob(row, k2, &self->trans_p[y][y2], 0) < 0) return -1;
        }
        row = PyDict_GetItemString(emit, key);
        if (!row || !PyDict_Check(row)) {
            PyErr_Format(PyExc_ValueError, "emission table has no state %s", key);
            return -1;
        }
        while (PyDict_Next(row, &pos, &k, &v)) {
            Py_UCS4 c;
            double d;
            if (!PyUnicode_Check(k) || PyUnicode_GET_LENGTH(k) != 1) continue;
            c = PyUnicode_READ_CHAR(k, 0);
            /* only characters of finalseg's re_han ever reach the Viterbi */
            if (!is_han(c)) continue;
            d = PyFloat_AsDouble(v);
            if (d == -1.0 && PyErr_Occurred()) return -1;
            self->emit_p[y * HAN_N + (c - HAN_LO)] = d;
        }
    }
    return 0;
}

static int
Seg_init(SegObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"dictionary", "start_p", "trans_p", "emit_p", NULL};
    Py_buffer dict;
    PyObject *start, *trans, *emit;
    size_t expect;
    if (self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "Segmenter is already initialised");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "y*OOO:Segmenter", kwlist, &dict, &start, &trans, &emit))
        return -1;
    trie_free(&self->trie);
    PyMem_RawFree(self->emit_p);
    self->emit_p = NULL;
    expect = (size_t)(dict.len / 7) + 1024; /* about 1.4 nodes per 10 bytes of dict.txt */
    if (trie_init(&self->trie, expect) < 0) {
        PyBuffer_Release(&dict);
        PyErr_NoMemory();
        return -1;
    }
    self->total = 0;
    if (parse_dict(self, (const unsigned char *)dict.buf, dict.len) < 0) {
        PyBuffer_Release(&dict);
        return -1;
    }
    PyBuffer_Release(&dict);
    if (load_hmm(self, start, trans, emit) < 0) return -1;
    self->ready = 1;
    return 0;
}

static void
Seg_dealloc(SegObject *self)
{
    cache_clear(&self->cache);
    trie_free(&self->trie);
    PyMem_RawFree(self->emit_p);
    self->emit_p = NULL;
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
word_to_ucs4(PyObject *word, Py_UCS4 **out, Py_ssize_t *n)
{
    *n = PyUnicode_GET_LENGTH(word);
    *out = PyUnicode_AsUCS4Copy(word);
    return *out ? 0 : -1;
}

static PyObject *
Seg_add_word(SegObject *self, PyObject *args)
{
    PyObject *word;
    long long freq;
    Py_UCS4 *w;
    Py_ssize_t n, k;
    uint32_t node = 0;
    if (!PyArg_ParseTuple(args, "UL:add_word", &word, &freq)) return NULL;
    if (!self->ready) { PyErr_SetString(PyExc_RuntimeError, "Segmenter is not initialised"); return NULL; }
    if (self->readers) {
        PyErr_SetString(PyExc_RuntimeError, "add_word while the segmenter is cutting in another thread");
        return NULL;
    }
    if (freq < 0 || freq > FREQ_MAX || self->total > FREQ_MAX) {
        PyErr_SetString(PyExc_OverflowError, "word frequency out of the supported range [0, 2**60]");
        return NULL;
    }
    if (word_to_ucs4(word, &w, &n) < 0) return NULL;
    cache_clear(&self->cache); /* the dictionary changes: so may every cut */
    if (n == 0) {
        PyMem_Free(w);
        self->total += freq;
        Py_RETURN_NONE;
    }
    for (k = 0; k < n; k++) {
        node = trie_child_make(&self->trie, node, w[k]);
        if (node == NO_NODE) { PyMem_Free(w); return PyErr_NoMemory(); }
    }
    PyMem_Free(w);
    set_word(self, node, (int64_t)freq);
    self->total += freq;
    if (freq == 0 && !self->trie.force_split[node]) {
        self->trie.force_split[node] = 1;
        self->trie.n_force++;
    }
    Py_RETURN_NONE;
}

static PyObject *
Seg_get_freq(SegObject *self, PyObject *args)
{
    PyObject *word;
    Py_UCS4 *w;
    Py_ssize_t n;
    uint32_t node;
    if (!PyArg_ParseTuple(args, "U:get_freq", &word)) return NULL;
    if (!self->ready) { PyErr_SetString(PyExc_RuntimeError, "Segmenter is not initialised"); return NULL; }
    if (word_to_ucs4(word, &w, &n) < 0) return NULL;
    node = n ? trie_find(&self->trie, w, 0, n) : NO_NODE;
    PyMem_Free(w);
    if (node == NO_NODE) Py_RETURN_NONE;
    return PyLong_FromLongLong((long long)self->trie.freq[node]);
}

static PyObject *
Seg_get_total(SegObject *self, void *closure)
{
    (void)closure;
    return PyLong_FromLongLong((long long)self->total);
}

static PyObject *
Seg_get_nodes(SegObject *self, void *closure)
{
    (void)closure;
    return PyLong_FromSize_t(self->trie.n_nodes - 1);
}

/* _calc(sentence) -> route as a list of (prob, x) for idx 0..N, like
   Tokenizer.calc(sentence, get_DAG(sentence), route): for differential
   tests of the float operations */
static PyObject *
Seg_calc(SegObject *self, PyObject *args)
{
    PyObject *text, *out;
    Py_ssize_t n, i;
    Work w;
    if (!PyArg_ParseTuple(args, "U:_calc", &text)) return NULL;
    if (check_ready(self) < 0) return NULL;
    memset(&w, 0, sizeof(w));
    n = PyUnicode_GET_LENGTH(text);
    if (load_text(&w, PyUnicode_KIND(text), PyUnicode_DATA(text), n) < 0 ||
        calc_route(self, &w, w.txt, 0, n, log((double)self->total)) < 0) {
        work_free(&w);
        return PyErr_NoMemory();
    }
    out = PyList_New(n + 1);
    for (i = 0; out && i <= n; i++) {
        PyObject *item = Py_BuildValue("(dn)", w.rp[i], w.rx[i]);
        if (!item) { Py_CLEAR(out); break; }
        PyList_SET_ITEM(out, i, item);
    }
    work_free(&w);
    return out;
}

/* _viterbi(run) -> (prob, [states]) like finalseg.viterbi(run, 'BMES', ...) */
static PyObject *
Seg_viterbi(SegObject *self, PyObject *args)
{
    PyObject *text, *states, *out;
    Py_ssize_t n, i;
    unsigned char *pos;
    double prob;
    Work w;
    if (!PyArg_ParseTuple(args, "U:_viterbi", &text)) return NULL;
    if (check_ready(self) < 0) return NULL;
    n = PyUnicode_GET_LENGTH(text);
    for (i = 0; i < n; i++) {
        if (!is_han(PyUnicode_READ_CHAR(text, i))) {
            PyErr_SetString(PyExc_ValueError, "_viterbi: a non-empty run of [\\u4E00-\\u9FD5] is required");
            return NULL;
        }
    }
    if (n == 0) {
        PyErr_SetString(PyExc_ValueError, "_viterbi: a non-empty run of [\\u4E00-\\u9FD5] is required");
        return NULL;
    }
    memset(&w, 0, sizeof(w));
    if (load_text(&w, PyUnicode_KIND(text), PyUnicode_DATA(text), n) < 0 ||
        !(pos = viterbi_core(self, &w, w.txt, 0, n, &prob))) {
        work_free(&w);
        return PyErr_NoMemory();
    }
    states = PyList_New(n);
    for (i = 0; states && i < n; i++) {
        PyObject *c = PyUnicode_FromStringAndSize(&STATE_CHARS[pos[i]], 1);
        if (!c) { Py_CLEAR(states); break; }
        PyList_SET_ITEM(states, i, c);
    }
    work_free(&w);
    if (!states) return NULL;
    out = Py_BuildValue("(dN)", prob, states);
    return out;
}

static PyMethodDef Seg_methods[] = {
    {"_calc", (PyCFunction)Seg_calc, METH_VARARGS, "route of Tokenizer.calc, for tests"},
    {"_viterbi", (PyCFunction)Seg_viterbi, METH_VARARGS, "finalseg.viterbi, for tests"},
    {"cut", (PyCFunction)Seg_cut, METH_VARARGS,
     "cut(text, hmm=True) -> list of str, the tokens of jieba.cut(text, HMM=hmm)"},
    {"cut_many", (PyCFunction)Seg_cut_many, METH_VARARGS,
     "cut_many(texts, hmm=True) -> list of token lists; segments without the GIL"},
    {"encode_many", (PyCFunction)(void (*)(void))Seg_encode_many, METH_VARARGS | METH_KEYWORDS,
     "encode_many(texts, hmm=True, drop_space=True, threads=1, progress=None) -> (ids: bytes of uint32, "
     "offsets: bytes of int64 (len(texts)+1), vocabulary: list of str, id k is vocabulary[k-1]); whitespace-only "
     "tokens dropped if drop_space; equal texts segmented once; progress(done) is called now and then"},
    {"set_cache_limit", (PyCFunction)Seg_set_cache_limit, METH_O,
     "set_cache_limit(tokens): how many tokens encode_many may keep across calls (0: none)"},
    {"clear_cache", (PyCFunction)Seg_clear_cache, METH_NOARGS, "forget every text encode_many kept"},
    {"cache_info", (PyCFunction)Seg_cache_info, METH_NOARGS, "(texts kept, tokens kept, limit)"},
    {"add_word", (PyCFunction)Seg_add_word, METH_VARARGS,
     "add_word(word, freq): Tokenizer.add_word with an explicit frequency"},
    {"get_freq", (PyCFunction)Seg_get_freq, METH_VARARGS,
     "get_freq(word) -> int or None: Tokenizer.FREQ.get(word)"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Seg_getset[] = {
    {"total", (getter)Seg_get_total, NULL, "Tokenizer.total", NULL},
    {"n_entries", (getter)Seg_get_nodes, NULL, "len(Tokenizer.FREQ) (words and prefixes)", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject SegType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    "judgekit._cjieba.Segmenter", /* tp_name */
    sizeof(SegObject),            /* tp_basicsize */
};

static struct PyModuleDef cjieba_module = {
    PyModuleDef_HEAD_INIT,
    "judgekit._cjieba",
    "Compiled jieba-exact segmenter (see judgekit.text.segment).",
    -1,
    NULL,
};

PyMODINIT_FUNC
PyInit__cjieba(void)
{
    PyObject *m;
    init_classes();
    SegType.tp_dealloc = (destructor)Seg_dealloc;
    SegType.tp_flags = Py_TPFLAGS_DEFAULT;
    SegType.tp_doc = "Segmenter(dictionary: bytes, start_p, trans_p, emit_p)";
    SegType.tp_methods = Seg_methods;
    SegType.tp_getset = Seg_getset;
    SegType.tp_init = (initproc)Seg_init;
    SegType.tp_new = PyType_GenericNew;
    if (PyType_Ready(&SegType) < 0) return NULL;
    m = PyModule_Create(&cjieba_module);
    if (!m) return NULL;
    Py_INCREF(&SegType);
    if (PyModule_AddObject(m, "Segmenter", (PyObject *)&SegType) < 0) {
        Py_DECREF(&SegType);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddStringConstant(m, "JIEBA_VERSION", "0.42.1") < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
