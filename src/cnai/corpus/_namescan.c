/*
 * cnai.corpus._namescan: the person-name CRF of cnai.corpus.namemodel (features, Viterbi, marginals) in C.
 *
 * The Python reference is namemodel.features() + python-crfsuite (namemodel.tag). This module does the
 * same work without building feature strings: namemodel._compiled() reads the model file (names_crf.bin,
 * crfsuite's binary format) and the name tables at load time and hands over
 *   - one weight vector per model attribute (one double per label, in the model's label order);
 *   - per character (the characters of the tables and of the model's character attributes): the vector
 *     of each character template (c=, c-1=, c+1=, c-2=, c+2=) and the vectors of its static features in
 *     the order namemodel lists them, as itself and as a left/right/second-left/second-right neighbour;
 *     every other character is described by its kind (H D L W P) alone;
 *   - the bigram attributes (b-=, b+=, b--=, b++=), the lexicon words (2-4 characters) with their wb/we
 *     vectors, the win/pwe/nwb vectors, the gazetteer words with their gB/gE/gI/gN/gP vectors per kind.
 * Attributes the model does not hold add nothing, exactly as in crfsuite (unknown attributes are skipped).
 *
 * Bit-identical results: the state score of a label is summed feature by feature in the order the
 * Python feature list has them (crfsuite adds them in item order), the transition/forward-backward/
 * Viterbi arithmetic follows crfsuite's crf1d context (scaled forward-backward with exp() of the scores,
 * strict "<" when picking a maximum), so labels and marginals are the same doubles.
 *
 * Exact skip (tag / tag_text): a piece (sentence) is first checked with a bound (max_gain, proof there):
 * when no run of non-O labels can beat the all-O path by the margin, Viterbi labels it all O and it has
 * no span, so the ordered sums, Viterbi and marginals are not computed. On ordinary prose almost every
 * piece is skipped; pieces that may hold a name are tagged in full as before.
 *
 * Tagger.tag(text) -> [(start, end, smallest marginal of the span's labels)]  (namemodel.tag rounds it)
 * Tagger.tag_text(text, max_piece, triggers=None, upper=False) -> the same over names._pieces of text
 *   (upper=True: (spans, whether the text holds an ASCII capital), so names.find needs no regex pass for it)
 * Tagger.labels(text) -> str of B/I/E/O, Tagger.marginals(text), Tagger.max_gain(text) (for tests)
 * Tagger.set_skip(flag): the exact skip on (default) or off (tests and benchmarks compare)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define NL 4 /* labels */
#define SKIP_SLACK 1e-3  /* the exact skip's margin (see max_gain) */
#define SKIP_MAX_N 2048  /* longer pieces (only through tag()) are tagged in full: keeps rounding < SLACK */
#define SKIP_MAX_W 100.0 /* a model with a larger weight is never skipped */
#define SKIP_MAX_F 1000  /* ... nor one whose tables allow this many features at a position */

typedef struct { int32_t off, len; } List; /* a run of vector indices in the pool */

typedef struct {
    uint32_t cp;
    uint8_t used;
    int32_t uni[5]; /* c=, c-1=, c+1=, c-2=, c+2= : vector index or -1 */
    List st[5];     /* static features: as itself, L:, R:, LL:, RR: */
    int32_t glen;   /* longest gazetteer word starting with this character */
    uint64_t bm[4]; /* per template k: bit bi_bit(b) set for each bigram attribute (this character, b) of k: a
                       clear bit means no attribute, so most positions skip the list scan (bi_find) */
    int32_t id;     /* row of this character in TaggerObject.rc */
    int32_t boff[4]; uint8_t blen[4]; /* bigram attributes starting with this character, per template: a short
                                         list in TaggerObject.bitems sorted by the second character */
} CharInfo;

typedef struct { uint32_t second; int32_t vec; } BiItem;

typedef struct { uint64_t key; int32_t vec; } BiEntry;           /* key 0 = empty (keys have bit 63 set) */
typedef struct { uint64_t k1; uint32_t k2; int16_t wb, we; } LexEntry; /* k2 holds the length: 0 = empty */
typedef struct { uint32_t key; int16_t wb, we; } Lex2Entry; /* a two-character word of the BMP: (a << 16) | b */
typedef struct { uint64_t h; int32_t off, len; List kinds; } GazEntry;    /* len 0 = empty */
typedef struct { uint64_t key; uint64_t lens; } GazPrefix; /* first two characters -> bit L: a word of length L */

typedef struct {
    PyObject_HEAD
    double trans[NL * NL];
    char lab[NL];           /* 'B' 'I' 'E' 'O' by model label id */
    double *vec;            /* NL doubles per vector; the last one is all zeros */
    Py_ssize_t nvec;
    int32_t zero;           /* index of the zero vector: stands for an absent attribute where a fixed slot is
                               added (adding +0.0 to a sum that is never -0.0 changes nothing: still exact) */
    int32_t *pool;          /* vector index lists */
    Py_ssize_t npool, cpool;
    CharInfo *chars; uint64_t cmask;
    uint16_t *bmp;          /* BMP code point -> its entry in chars (its slot, or its kind's entry after the table);
                               NULL if the table is too large */
    CharInfo *kinds;        /* H D L W P for characters not in the table: the 5 entries after the hash table in
                               chars (so bmp can index them too) */
    List bos, eos;
    BiEntry *bi; uint64_t bmask;
    BiItem *bitems;
    LexEntry *lex; uint64_t lmask;
    Lex2Entry *lex2; uint32_t l2bits; /* two-character words of the BMP (most look-up hits), 8 bytes each: a
                                         table a quarter the size of lex, so hits miss the cache less */
    uint64_t *lbloom; /* Bloom filter in front of the lexicon, in blocks of one cache line chosen by a word's
                         first two characters (the 3 look-ups at a position read one line), two bits in one
                         word of the block chosen by the whole word: most lookups miss,
                         and the table is larger than the cache */
    GazPrefix *gpre; uint64_t gpmask; /* gazetteer words by their first two characters: which lengths exist */
    uint64_t *gbloom; /* blocked Bloom filter of those first two characters (32 KB: stays in the cache) */
    int32_t win[5], pwe[5], nwb[5];
    GazEntry *gaz; uint64_t gmask;
    uint32_t *gcp; Py_ssize_t ngcp, cgcp; /* gazetteer words' code points */
    /* for the exact skip (max_gain), in differences: dvec[v] = (w[ys[0]] - w[O], w[ys[1]] - w[O], w[ys[2]] - w[O],
       0) for each vector w of vec, so a sum of them is d directly (no subtraction, no label shuffle) */
    double *dvec;
    /* per character row, the sum of its role's dvec (template vector + static feature vectors) as the
       character itself, left, right, second-left, second-right neighbour, in one vector each (any order:
       this sum only feeds a bound with a margin). Three more rows for the padding slots of a piece:
       ROW_PADL (pad[1], next to position 0: role 1 = c-1=^ + L:bos + c-2=^, role 3 = c-2=^ of position 1),
       ROW_PADR (pad[n+2]: role 2 = c+1=$ + R:eos + c+2=$, role 4 = c+2=$ of position n-2), ROW_ZERO (pad[0],
       pad[n+3]): so the bound reads five rows per position without a branch */
    double (*rc)[5][NL];
    int32_t row_padl, row_padr, row_zero;
    /* dvec[win[a]] + dvec[pwe[b]] + dvec[nwb[c]] at [(a * 5 + b) * 5 + c]: the three word-neighbour features of
       a position (inside a word of a characters, after one of b, before one of c) in one look-up */
    double wtab[125][NL];
    int o;                  /* model label id of O */
    int noskip;             /* 1: never skip (set_skip(False): tests compare both ways) */
    int noskip_model;       /* 1: a weight too large for the skip's rounding bound: never skip */
    int ready;              /* 1 once __init__ has completed: the methods refuse a Tagger without tables */
    int ys[NL - 1];         /* the labels other than O */
    double dstart[3], dclose[3], dext[3][3]; /* transitions of a run, less T[O][O] (max_gain) */
} TaggerObject;

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL; x ^= x >> 33;
    return x;
}

static uint64_t table_size(Py_ssize_t n) {
    uint64_t s = 16;
    while (s < (uint64_t)n * 2 + 2) s <<= 1;
    return s;
}

static int pool_push(TaggerObject *t, int32_t v) {
    if (t->npool == t->cpool) {
        Py_ssize_t c = t->cpool ? t->cpool * 2 : 1024;
        int32_t *p = PyMem_Realloc(t->pool, c * sizeof(int32_t));
        if (!p) { PyErr_NoMemory(); return -1; }
        t->pool = p; t->cpool = c;
    }
    t->pool[t->npool++] = v;
    return 0;
}

/* a Python list/tuple of ints (vector indices, -1 = absent) -> a List of the present ones */
static int read_list(TaggerObject *t, PyObject *seq, List *out) {
    PyObject *f = PySequence_Fast(seq, "expected a sequence of vector indices");
    if (!f) return -1;
    out->off = (int32_t)t->npool; out->len = 0;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(f); i++) {
        long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(f, i));
        if (v == -1 && PyErr_Occurred()) { Py_DECREF(f); return -1; }
        if (v < -1 || v >= t->nvec) { Py_DECREF(f); PyErr_SetString(PyExc_ValueError, "vector index out of range"); return -1; }
        if (v >= 0) {
            if (pool_push(t, (int32_t)v) < 0) { Py_DECREF(f); return -1; }
            out->len++;
        }
    }
    Py_DECREF(f);
    return 0;
}

static int read_vecidx(TaggerObject *t, PyObject *o, int32_t *out) {
    long v = PyLong_AsLong(o);
    if (v == -1 && PyErr_Occurred()) return -1;
    if (v < -1 || v >= t->nvec) { PyErr_SetString(PyExc_ValueError, "vector index out of range"); return -1; }
    *out = (int32_t)v;
    return 0;
}

static CharInfo *char_slot(TaggerObject *t, uint32_t cp) {
    uint64_t h = mix64(cp) & t->cmask;
    while (t->chars[h].used && t->chars[h].cp != cp) h = (h + 1) & t->cmask;
    return &t->chars[h];
}

static inline int kind_of(uint32_t c) {
    if (c >= 0x4e00 && c <= 0x9fff) return 0;                     /* H */
    if (Py_UNICODE_ISDIGIT(c)) return 1;                           /* D: str.isdigit */
    if (c < 128 && ((c | 32) >= 'a' && (c | 32) <= 'z')) return 2; /* L: ASCII letter */
    if (Py_UNICODE_ISSPACE(c)) return 3;                           /* W: str.isspace */
    return 4;                                                      /* P */
}

static inline const CharInfo *char_info(const TaggerObject *t, uint32_t cp) {
    if (cp < 0x10000 && t->bmp) return &t->chars[t->bmp[cp]];
    uint64_t h = mix64(cp) & t->cmask;
    for (;;) {
        const CharInfo *e = &t->chars[h];
        if (!e->used) return &t->kinds[kind_of(cp)];
        if (e->cp == cp) return e;
        h = (h + 1) & t->cmask;
    }
}

static inline uint64_t bi_key(int tmpl, uint32_t a, uint32_t b) {
    return (1ULL << 63) | ((uint64_t)tmpl << 42) | ((uint64_t)a << 21) | (uint64_t)b;
}

/* the bit of a bigram's second character in CharInfo.bm (a 64-bit filter per first character and template) */
static inline unsigned bi_bit(uint32_t second) { return (second * 0x9E3779B1u) >> 26; }

/* the bigram attribute of template tm made of c's character and `second`: its vector, or -1 */
static inline int32_t bi_find(const TaggerObject *t, const CharInfo *c, int tm, uint32_t second) {
    const BiItem *it = t->bitems + c->boff[tm];
    uint32_t len = c->blen[tm];
    if (!len) return -1;
    /* branch-free binary search (lists are sorted by the second character): the lists of the padding '^'
       hold 50-80 items and are read at the start of every piece */
    while (len > 1) { /* the item sought, if present, is in [it, it + len) */
        uint32_t half = len >> 1;
        it = it[half].second <= second ? it + half : it;
        len -= half;
    }
    return it->second == second ? it->vec : -1;
}


#define LBLOOM_BITS 16 /* 2^16 words: 512 KB */
#define LBLOCK_BITS (LBLOOM_BITS - 3) /* blocks of 8 words (64 bytes) */

/* the block of words starting with two characters whose pair hash (mix64(pair_key)) is ph; the pair's own
   two bits in the block say whether any word starts with it (else the three look-ups are skipped: about
   half the positions). The same pair hash feeds the gazetteer filters: one hash per position. */
static inline uint64_t *lex_block(const TaggerObject *t, uint64_t ph) {
    return t->lbloom + ((ph >> (64 - LBLOCK_BITS)) << 3);
}

static inline int lbloom_has(const uint64_t *blk, uint64_t h) {
    uint64_t m = (1ULL << (h & 63)) | (1ULL << ((h >> 6) & 63));
    return (blk[(h >> 12) & 7] & m) == m;
}
#define GBLOOM_BITS 12 /* 2^12 words: 32 KB */

static inline void lex_key(const uint32_t *w, int L, uint64_t *k1, uint32_t *k2) {
    *k1 = (uint64_t)w[0] | ((uint64_t)w[1] << 21) | (L > 2 ? (uint64_t)w[2] << 42 : 0);
    *k2 = (L > 3 ? w[3] : 0) | ((uint32_t)L << 21);
}

/* a lexicon word's hash (one mix: k2 is small, the multiplication spreads it over the word before the mix) */
static inline uint64_t lex_hash(uint64_t k1, uint32_t k2) { return mix64(k1 ^ ((uint64_t)k2 * 0x9E3779B97F4A7C15ULL)); }

/* the second bit pair of a two-character prefix in its block: "some word of 3 or 4 characters starts with
   it" (bits of ph that the block index and the first bit pair do not use) */
static inline uint64_t long_bits(uint64_t ph) { return ph >> 20; }

static inline uint64_t bloom_bits(uint64_t h) { return (1ULL << (h & 63)) | (1ULL << ((h >> 6) & 63)); }

static inline int bloom_has(const uint64_t *b, int bits, uint64_t h) {
    uint64_t m = bloom_bits(h);
    return (b[h >> (64 - bits)] & m) == m;
}

static inline void bloom_add(uint64_t *b, int bits, uint64_t h) { b[h >> (64 - bits)] |= bloom_bits(h); }

static inline uint64_t pair_key(uint32_t a, uint32_t b) { return (1ULL << 63) | ((uint64_t)a << 21) | b; }

static inline GazPrefix *gpre_slot_h(const TaggerObject *t, uint64_t key, uint64_t hash) { /* hash = mix64(key) */
    uint64_t h = hash & t->gpmask;
    while (t->gpre[h].key && t->gpre[h].key != key) h = (h + 1) & t->gpmask;
    return &t->gpre[h];
}

static GazPrefix *gpre_slot(const TaggerObject *t, uint64_t key) {
    uint64_t h = mix64(key) & t->gpmask;
    while (t->gpre[h].key && t->gpre[h].key != key) h = (h + 1) & t->gpmask;
    return &t->gpre[h];
}

/* blk: lex_block() of the word's first two characters */
static inline const LexEntry *lex_get(const TaggerObject *t, const uint64_t *blk, const uint32_t *w, int L) {
    uint64_t k1; uint32_t k2;
    lex_key(w, L, &k1, &k2);
    uint64_t hv = lex_hash(k1, k2);
    if (!lbloom_has(blk, hv)) return NULL;
    uint64_t h = hv & t->lmask;
    for (;;) {
        const LexEntry *e = &t->lex[h];
        if (!e->k2) return NULL;
        if (e->k1 == k1 && e->k2 == k2) return e;
        h = (h + 1) & t->lmask;
    }
}

static inline uint32_t lex2_key(uint32_t a, uint32_t b) { /* 0: not in the table (not BMP, or NUL NUL) */
    return (a < 0x10000 && b < 0x10000) ? (a << 16) | b : 0;
}

static inline const Lex2Entry *lex2_get(const TaggerObject *t, uint32_t key) {
    uint32_t mask = (1u << t->l2bits) - 1, h = (key * 0x9E3779B1u) >> (32 - t->l2bits);
    for (;;) {
        const Lex2Entry *e = &t->lex2[h];
        if (e->key == key) return e;
        if (!e->key) return NULL;
        h = (h + 1) & mask;
    }
}

static inline uint64_t cps_hash(const uint32_t *w, Py_ssize_t L) {
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)L;
    for (Py_ssize_t i = 0; i < L; i++) h = mix64(h ^ w[i]) + 0x632be59bd9b4e019ULL;
    return h | 1;
}

static inline const GazEntry *gaz_get(const TaggerObject *t, const uint32_t *w, Py_ssize_t L) {
    uint64_t hv = cps_hash(w, L);
    uint64_t h = hv & t->gmask;
    for (;;) {
        const GazEntry *e = &t->gaz[h];
        if (!e->len) return NULL;
        if (e->h == hv && e->len == L && memcmp(t->gcp + e->off, w, L * sizeof(uint32_t)) == 0) return e;
        h = (h + 1) & t->gmask;
    }
}

/* str -> code points (caller frees); n set */
static uint32_t *to_cps(PyObject *s, Py_ssize_t pad, Py_ssize_t *n) {
    if (!PyUnicode_Check(s)) { PyErr_SetString(PyExc_TypeError, "expected str"); return NULL; }
    Py_ssize_t len = PyUnicode_GET_LENGTH(s);
    uint32_t *b = PyMem_Malloc((len + 2 * pad + 1) * sizeof(uint32_t));
    if (!b) { PyErr_NoMemory(); return NULL; }
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < len; i++) b[pad + i] = PyUnicode_READ(kind, data, i);
    *n = len;
    return b;
}

static void Tagger_dealloc(TaggerObject *t) {
    PyMem_Free(t->vec); PyMem_Free(t->pool); PyMem_Free(t->chars); PyMem_Free(t->bi); PyMem_Free(t->bitems);
    PyMem_Free(t->rc); PyMem_Free(t->dvec);
    PyMem_Free(t->lex); PyMem_Free(t->lex2); PyMem_Free(t->gaz); PyMem_Free(t->lbloom); PyMem_Free(t->gpre); PyMem_Free(t->gbloom); PyMem_Free(t->bmp); PyMem_Free(t->gcp);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

/* chars: {cp: (uni5, self, L, R, LL, RR)}; kinds: [(self, L, R, LL, RR)] * 5 (H D L W P) */
static int read_charinfo(TaggerObject *t, CharInfo *ci, PyObject *uni, PyObject *lists, Py_ssize_t first) {
    PyObject *f = PySequence_Fast(lists, "expected a tuple");
    if (!f) return -1;
    if (PySequence_Fast_GET_SIZE(f) != first + 5) { Py_DECREF(f); PyErr_SetString(PyExc_ValueError, "bad char entry"); return -1; }
    for (int k = 0; k < 5; k++) ci->uni[k] = -1;
    if (uni) {
        PyObject *u = PySequence_Fast(uni, "expected 5 vector indices");
        if (!u) { Py_DECREF(f); return -1; }
        if (PySequence_Fast_GET_SIZE(u) != 5) { Py_DECREF(u); Py_DECREF(f); PyErr_SetString(PyExc_ValueError, "bad uni"); return -1; }
        for (int k = 0; k < 5; k++)
            if (read_vecidx(t, PySequence_Fast_GET_ITEM(u, k), &ci->uni[k]) < 0) { Py_DECREF(u); Py_DECREF(f); return -1; }
        Py_DECREF(u);
    }
    for (int k = 0; k < 5; k++)
        if (read_list(t, PySequence_Fast_GET_ITEM(f, first + k), &ci->st[k]) < 0) { Py_DECREF(f); return -1; }
    Py_DECREF(f);
    ci->glen = 0;
    return 0;
}

static int Tagger_init(TaggerObject *t, PyObject *args, PyObject *kw) {
    const char *labels; Py_ssize_t nlab;
    Py_buffer trans, vecs;
    PyObject *chars, *kinds, *bos, *eos, *bigrams, *lexicon, *lexfeat, *gazetteer;
    if (!PyArg_ParseTuple(args, "s#y*y*O!O!OOO!O!OO!", &labels, &nlab, &trans, &vecs, &PyDict_Type, &chars,
                          &PyList_Type, &kinds, &bos, &eos, &PyDict_Type, &bigrams, &PyList_Type, &lexicon,
                          &lexfeat, &PyList_Type, &gazetteer))
        return -1;
    int rc = -1;
    if (t->vec) {
        PyErr_SetString(PyExc_RuntimeError, "Tagger is already initialised");
        goto done;
    }
    if (nlab != NL || trans.len != (Py_ssize_t)sizeof(double) * NL * NL || vecs.len % (sizeof(double) * NL)) {
        PyErr_SetString(PyExc_ValueError, "the model must have 4 labels (B I E O)");
        goto done;
    }
    for (int i = 0; i < NL; i++) {
        if (!labels[i] || !strchr("BIEO", labels[i])) { PyErr_SetString(PyExc_ValueError, "labels must be B I E O"); goto done; }
        t->lab[i] = labels[i];
    }
    memcpy(t->trans, trans.buf, sizeof(t->trans));
    t->nvec = vecs.len / (sizeof(double) * NL);
    if (t->nvec >= INT16_MAX) { PyErr_SetString(PyExc_ValueError, "too many model attributes"); goto done; }
    t->vec = PyMem_Calloc(t->nvec + 1, sizeof(double) * NL);
    if (!t->vec) { PyErr_NoMemory(); goto done; }
    memcpy(t->vec, vecs.buf, vecs.len);
    t->zero = (int32_t)t->nvec;

    /* characters */
    Py_ssize_t nc = PyDict_Size(chars);
    uint64_t cs = table_size(nc);
    t->chars = PyMem_Calloc(cs + 5, sizeof(CharInfo));
    if (!t->chars) { PyErr_NoMemory(); goto done; }
    t->cmask = cs - 1;
    t->kinds = t->chars + cs;
    PyObject *key, *val; Py_ssize_t pos = 0;
    while (PyDict_Next(chars, &pos, &key, &val)) {
        long cp = PyLong_AsLong(key);
        if (cp < 0 || cp > 0x10FFFF) { if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bad code point"); goto done; }
        if (!PyTuple_Check(val) || PyTuple_GET_SIZE(val) != 6) { PyErr_SetString(PyExc_ValueError, "bad char entry"); goto done; }
        CharInfo *ci = char_slot(t, (uint32_t)cp);
        if (ci->used) continue;
        if (read_charinfo(t, ci, PyTuple_GET_ITEM(val, 0), val, 1) < 0) goto done;
        ci->cp = (uint32_t)cp; ci->used = 1;
    }
    if (PyList_GET_SIZE(kinds) != 5) { PyErr_SetString(PyExc_ValueError, "5 kinds expected"); goto done; }
    for (int k = 0; k < 5; k++)
        if (read_charinfo(t, &t->kinds[k], NULL, PyList_GET_ITEM(kinds, k), 0) < 0) goto done;
    if (read_list(t, bos, &t->bos) < 0 || read_list(t, eos, &t->eos) < 0) goto done;

    /* bigrams: {(template, cp1, cp2): vec} */
    uint64_t bs = table_size(PyDict_Size(bigrams));
    t->bi = PyMem_Calloc(bs, sizeof(BiEntry));
    if (!t->bi) { PyErr_NoMemory(); goto done; }
    t->bmask = bs - 1;
    pos = 0;
    while (PyDict_Next(bigrams, &pos, &key, &val)) {
        int tm; unsigned long a, b; int32_t v;
        if (!PyArg_ParseTuple(key, "ikk", &tm, &a, &b) || read_vecidx(t, val, &v) < 0) goto done;
        if (tm < 0 || tm > 3 || a > 0x10FFFF || b > 0x10FFFF) { PyErr_SetString(PyExc_ValueError, "bad bigram"); goto done; }
        CharInfo *first = char_slot(t, (uint32_t)a);
        if (!first->used) { PyErr_SetString(PyExc_ValueError, "a bigram's first character must be in the character table"); goto done; }
        first->bm[tm] |= 1ULL << bi_bit((uint32_t)b);
        uint64_t k = bi_key(tm, (uint32_t)a, (uint32_t)b), h = mix64(k) & t->bmask;
        while (t->bi[h].key && t->bi[h].key != k) h = (h + 1) & t->bmask;
        t->bi[h].key = k; t->bi[h].vec = v;
    }
    { /* the same bigrams as per-character lists (no hashing per position) */
        Py_ssize_t nb = 0;
        for (uint64_t h = 0; h <= t->bmask; h++) {
            if (!t->bi[h].key) continue;
            CharInfo *c = char_slot(t, (uint32_t)(t->bi[h].key >> 21) & 0x1FFFFF);
            int tm = (int)(t->bi[h].key >> 42) & 3;
            if (c->blen[tm] == UINT8_MAX) { PyErr_SetString(PyExc_ValueError, "too many bigrams for one character"); goto done; }
            c->blen[tm]++;
            nb++;
        }
        t->bitems = PyMem_Calloc(nb + 1, sizeof(BiItem));
        if (!t->bitems) { PyErr_NoMemory(); goto done; }
        int32_t off = 0;
        for (uint64_t h = 0; h <= t->cmask; h++)
            for (int tm = 0; tm < 4; tm++) { t->chars[h].boff[tm] = off; off += t->chars[h].blen[tm]; t->chars[h].blen[tm] = 0; }
        for (uint64_t h = 0; h <= t->bmask; h++) {
            if (!t->bi[h].key) continue;
            CharInfo *c = char_slot(t, (uint32_t)(t->bi[h].key >> 21) & 0x1FFFFF);
            int tm = (int)(t->bi[h].key >> 42) & 3;
            BiItem *list = t->bitems + c->boff[tm];
            BiItem it = {(uint32_t)(t->bi[h].key & 0x1FFFFF), t->bi[h].vec};
            int k = c->blen[tm]++;
            while (k > 0 && list[k - 1].second > it.second) { list[k] = list[k - 1]; k--; } /* insertion sort */
            list[k] = it;
        }
    }

    /* lexicon: [(word, wb vec, we vec)], words of 2-4 characters */
    /* the general table holds the words lex2 does not: size it for them */
    Py_ssize_t nlong = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lexicon); i++) {
        PyObject *it = PyList_GET_ITEM(lexicon, i), *w;
        if (!PyTuple_Check(it) || PyTuple_GET_SIZE(it) != 3 || !PyUnicode_Check(w = PyTuple_GET_ITEM(it, 0))) {
            PyErr_SetString(PyExc_TypeError, "lexicon: expected (word, wb, we) tuples");
            goto done;
        }
        if (PyUnicode_GET_LENGTH(w) != 2 || !lex2_key(PyUnicode_READ_CHAR(w, 0), PyUnicode_READ_CHAR(w, 1))) nlong++;
    }
    uint64_t ls = table_size(nlong);
    uint64_t ls2 = table_size(PyList_GET_SIZE(lexicon) - nlong);
    t->lex = PyMem_Calloc(ls, sizeof(LexEntry));
    if (!t->lex) { PyErr_NoMemory(); goto done; }
    t->lmask = ls - 1;
    t->lbloom = PyMem_Calloc((size_t)1 << LBLOOM_BITS, sizeof(uint64_t));
    if (!t->lbloom) { PyErr_NoMemory(); goto done; }
    t->l2bits = 4;
    while (((uint64_t)1 << t->l2bits) < ls2) t->l2bits++; /* at most half full */
    t->lex2 = PyMem_Calloc((size_t)1 << t->l2bits, sizeof(Lex2Entry));
    if (!t->lex2) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lexicon); i++) {
        PyObject *w; int32_t wb, we; PyObject *owb, *owe;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(lexicon, i), "UOO", &w, &owb, &owe)) goto done;
        if (read_vecidx(t, owb, &wb) < 0 || read_vecidx(t, owe, &we) < 0) goto done;
        Py_ssize_t L = PyUnicode_GET_LENGTH(w);
        if (L < 2 || L > 4) continue;
        uint32_t cps[4];
        for (Py_ssize_t j = 0; j < L; j++) cps[j] = PyUnicode_READ_CHAR(w, j);
        if (wb > INT16_MAX || we > INT16_MAX) { PyErr_SetString(PyExc_ValueError, "too many model attributes"); goto done; }
        uint64_t k1; uint32_t k2;
        lex_key(cps, (int)L, &k1, &k2);
        uint64_t hv = lex_hash(k1, k2), h = hv & t->lmask;
        uint32_t key2 = L == 2 ? lex2_key(cps[0], cps[1]) : 0;
        if (key2) {
            uint32_t m2 = (1u << t->l2bits) - 1, h2 = (key2 * 0x9E3779B1u) >> (32 - t->l2bits);
            while (t->lex2[h2].key && t->lex2[h2].key != key2) h2 = (h2 + 1) & m2;
            t->lex2[h2].key = key2; t->lex2[h2].wb = (int16_t)wb; t->lex2[h2].we = (int16_t)we;
        } else {
            while (t->lex[h].k2 && !(t->lex[h].k1 == k1 && t->lex[h].k2 == k2)) h = (h + 1) & t->lmask;
            t->lex[h].k1 = k1; t->lex[h].k2 = k2; t->lex[h].wb = (int16_t)wb; t->lex[h].we = (int16_t)we;
        }
        {
            uint64_t ph = mix64(pair_key(cps[0], cps[1])), *blk = lex_block(t, ph);
            blk[(hv >> 12) & 7] |= (1ULL << (hv & 63)) | (1ULL << ((hv >> 6) & 63));
            blk[(ph >> 12) & 7] |= (1ULL << (ph & 63)) | (1ULL << ((ph >> 6) & 63));
            if (L > 2) {
                const uint64_t lb = long_bits(ph);
                blk[(lb >> 12) & 7] |= (1ULL << (lb & 63)) | (1ULL << ((lb >> 6) & 63));
            }
        }
    }
    /* (win[0..4], pwe[0..4], nwb[0..4]) */
    {
        PyObject *f = PySequence_Fast(lexfeat, "expected 3 sequences");
        if (!f) goto done;
        if (PySequence_Fast_GET_SIZE(f) != 3) { Py_DECREF(f); PyErr_SetString(PyExc_ValueError, "bad lexfeat"); goto done; }
        int32_t *dst[3] = {t->win, t->pwe, t->nwb};
        for (int k = 0; k < 3; k++) {
            PyObject *s = PySequence_Fast(PySequence_Fast_GET_ITEM(f, k), "expected 5 indices");
            if (!s || PySequence_Fast_GET_SIZE(s) != 5) { Py_XDECREF(s); Py_DECREF(f); if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bad lexfeat"); goto done; }
            for (int j = 0; j < 5; j++)
                if (read_vecidx(t, PySequence_Fast_GET_ITEM(s, j), &dst[k][j]) < 0) { Py_DECREF(s); Py_DECREF(f); goto done; }
            Py_DECREF(s);
        }
        Py_DECREF(f);
    }

    /* gazetteer: [(word, [(gB, gE, gI, gN, gP) per kind, in order])] */
    Py_ssize_t gaz_maxlen = 0, gaz_maxkinds = 0; /* for the skip's bound on the features per position */
    uint64_t gs = table_size(PyList_GET_SIZE(gazetteer));
    t->gaz = PyMem_Calloc(gs, sizeof(GazEntry));
    if (!t->gaz) { PyErr_NoMemory(); goto done; }
    t->gmask = gs - 1;
    t->gpre = PyMem_Calloc(gs, sizeof(GazPrefix));
    t->gbloom = PyMem_Calloc((size_t)1 << GBLOOM_BITS, sizeof(uint64_t));
    if (!t->gpre || !t->gbloom) { PyErr_NoMemory(); goto done; }
    t->gpmask = gs - 1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(gazetteer); i++) {
        PyObject *w, *ks;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(gazetteer, i), "UO", &w, &ks)) goto done;
        Py_ssize_t L = PyUnicode_GET_LENGTH(w);
        if (L < 2) continue;
        if (t->ngcp + L > t->cgcp) {
            Py_ssize_t c = (t->cgcp + L) * 2 + 256;
            uint32_t *p = PyMem_Realloc(t->gcp, c * sizeof(uint32_t));
            if (!p) { PyErr_NoMemory(); goto done; }
            t->gcp = p; t->cgcp = c;
        }
        uint32_t *cps = t->gcp + t->ngcp;
        for (Py_ssize_t j = 0; j < L; j++) cps[j] = PyUnicode_READ_CHAR(w, j);
        uint64_t hv = cps_hash(cps, L), h = hv & t->gmask;
        int dup = 0;
        while (t->gaz[h].len) {
            if (t->gaz[h].h == hv && t->gaz[h].len == L && !memcmp(t->gcp + t->gaz[h].off, cps, L * 4)) { dup = 1; break; }
            h = (h + 1) & t->gmask;
        }
        if (dup) continue;
        GazPrefix *gp = gpre_slot(t, pair_key(cps[0], cps[1]));
        gp->key = pair_key(cps[0], cps[1]);
        if (L < 64) gp->lens |= 1ULL << L; /* longer words are looked up whatever the mask says */
        bloom_add(t->gbloom, GBLOOM_BITS, mix64(pair_key(cps[0], cps[1])));
        GazEntry *e = &t->gaz[h];
        e->h = hv; e->off = (int32_t)t->ngcp; e->len = (int32_t)L;
        t->ngcp += L;
        PyObject *f = PySequence_Fast(ks, "expected a list of kinds");
        if (!f) goto done;
        e->kinds.off = (int32_t)t->npool; e->kinds.len = (int32_t)PySequence_Fast_GET_SIZE(f);
        for (Py_ssize_t k = 0; k < PySequence_Fast_GET_SIZE(f); k++) {
            PyObject *g = PySequence_Fast(PySequence_Fast_GET_ITEM(f, k), "expected 5 indices");
            if (!g || PySequence_Fast_GET_SIZE(g) != 5) { Py_XDECREF(g); Py_DECREF(f); if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bad kind"); goto done; }
            for (int j = 0; j < 5; j++) {
                int32_t v;
                if (read_vecidx(t, PySequence_Fast_GET_ITEM(g, j), &v) < 0 || pool_push(t, v) < 0) { Py_DECREF(g); Py_DECREF(f); goto done; }
            }
            Py_DECREF(g);
        }
        Py_DECREF(f);
        /* the first character's longest entry (namemodel._gaz_maxlen) */
        CharInfo *ci = char_slot(t, cps[0]);
        if (!ci->used) { PyErr_SetString(PyExc_ValueError, "a gazetteer word's first character must be in the character table"); goto done; }
        if (ci->glen < L) ci->glen = (int32_t)L;
        if (gaz_maxlen < L) gaz_maxlen = L;
        if (gaz_maxkinds < e->kinds.len) gaz_maxkinds = e->kinds.len;
    }
    /* absent attributes in fixed slots -> the zero vector (no branch per feature when summing) */
    for (uint64_t h = 0; h <= t->cmask; h++)
        for (int k = 0; k < 5; k++)
            if (t->chars[h].uni[k] < 0) t->chars[h].uni[k] = t->zero;
    for (int k = 0; k < 5; k++) {
        for (int j = 0; j < 5; j++) t->kinds[k].uni[j] = t->zero;
        if (t->win[k] < 0 || k == 0) t->win[k] = t->zero;
        if (t->pwe[k] < 0 || k == 0) t->pwe[k] = t->zero;
        if (t->nwb[k] < 0 || k == 0) t->nwb[k] = t->zero;
    }
    for (uint64_t h = 0; h <= t->lmask; h++) {
        if (t->lex[h].wb < 0) t->lex[h].wb = (int16_t)t->zero;
        if (t->lex[h].we < 0) t->lex[h].we = (int16_t)t->zero;
    }
    for (uint64_t h = 0; h < ((uint64_t)1 << t->l2bits); h++) {
        if (t->lex2[h].wb < 0) t->lex2[h].wb = (int16_t)t->zero;
        if (t->lex2[h].we < 0) t->lex2[h].we = (int16_t)t->zero;
    }
    if (t->cmask + 5 <= 0xffff) { /* a direct index for the BMP: no hashing, no branch per character */
        t->bmp = PyMem_Malloc(0x10000 * sizeof(uint16_t));
        if (!t->bmp) { PyErr_NoMemory(); goto done; }
        for (uint32_t cp = 0; cp < 0x10000; cp++) t->bmp[cp] = (uint16_t)(t->cmask + 1 + kind_of(cp));
        for (uint64_t h = 0; h <= t->cmask; h++)
            if (t->chars[h].used && t->chars[h].cp < 0x10000) t->bmp[t->chars[h].cp] = (uint16_t)h;
    }
    t->o = 0;
    for (int y = 0; y < NL; y++)
        if (t->lab[y] == 'O') t->o = y;
    {
        int m = 0;
        for (int y = 0; y < NL; y++)
            if (y != t->o) t->ys[m++] = y;
    }
    t->dvec = PyMem_Calloc(t->nvec + 1, sizeof(double) * NL);
    if (!t->dvec) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t v = 0; v <= t->nvec; v++)
        for (int k = 0; k < 3; k++) t->dvec[v * NL + k] = t->vec[v * NL + t->ys[k]] - t->vec[v * NL + t->o];
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++)
            for (int c = 0; c < 5; c++)
                for (int y = 0; y < NL; y++)
                    t->wtab[(a * 5 + b) * 5 + c][y] = t->dvec[t->win[a] * NL + y] + t->dvec[t->pwe[b] * NL + y] +
                                                      t->dvec[t->nwb[c] * NL + y];
    { /* rows for the bound: the 5 kinds, used characters, then the padding rows */
        int32_t nrow = 5;
        for (uint64_t h = 0; h <= t->cmask; h++)
            if (t->chars[h].used) t->chars[h].id = nrow++;
        for (int k = 0; k < 5; k++) t->kinds[k].id = k;
        t->row_padl = nrow++; t->row_padr = nrow++; t->row_zero = nrow++;
        t->rc = PyMem_Calloc(nrow, sizeof(*t->rc));
        if (!t->rc) { PyErr_NoMemory(); goto done; }
        for (uint64_t h = 0; h <= t->cmask + 5; h++) {
            const CharInfo *c = h <= t->cmask ? &t->chars[h] : &t->kinds[h - t->cmask - 1];
            if (h <= t->cmask && !c->used) continue;
            for (int r = 0; r < 5; r++) {
                double *acc = t->rc[c->id][r];
                const double *u = t->dvec + (Py_ssize_t)c->uni[r] * NL;
                for (int y = 0; y < NL; y++) acc[y] = u[y];
                for (int32_t k = 0; k < c->st[r].len; k++) {
                    const double *w = t->dvec + (Py_ssize_t)t->pool[c->st[r].off + k] * NL;
                    for (int y = 0; y < NL; y++) acc[y] += w[y];
                }
            }
        }
        const CharInfo *hat = char_info(t, '^'), *dol = char_info(t, '$');
        double *left0 = t->rc[t->row_padl][1], *left1 = t->rc[t->row_padl][3];
        double *right0 = t->rc[t->row_padr][2], *right1 = t->rc[t->row_padr][4];
        const double *dv = t->dvec;
        for (int y = 0; y < NL; y++) {
            left0[y] = dv[hat->uni[1] * NL + y] + dv[hat->uni[3] * NL + y];
            left1[y] = dv[hat->uni[3] * NL + y];
            right0[y] = dv[dol->uni[2] * NL + y] + dv[dol->uni[4] * NL + y];
            right1[y] = dv[dol->uni[4] * NL + y];
            for (int32_t k = 0; k < t->bos.len; k++) left0[y] += dv[t->pool[t->bos.off + k] * NL + y];
            for (int32_t k = 0; k < t->eos.len; k++) right0[y] += dv[t->pool[t->eos.off + k] * NL + y];
        }
    }
    for (Py_ssize_t k = 0; k < (t->nvec + 1) * NL; k++)
        if (!(fabs(t->vec[k]) < SKIP_MAX_W)) t->noskip_model = 1; /* the skip's rounding bound fails */
    for (int k = 0; k < NL * NL; k++)
        if (!(fabs(t->trans[k]) < SKIP_MAX_W)) t->noskip_model = 1;
    /* features at one position: at most 64 from the templates, static tables and lexicon, plus one
       gazetteer event per kind of each word covering it (sum of its lengths) or next to it (2 per length) */
    if (gaz_maxlen > 40 || 64 + gaz_maxkinds * (gaz_maxlen * (gaz_maxlen + 1) / 2 + 2 * gaz_maxlen) >= SKIP_MAX_F)
        t->noskip_model = 1;
    {
        const int o = t->o;
        const double too = t->trans[o * NL + o];
        for (int a = 0; a < 3; a++) {
            t->dstart[a] = t->trans[o * NL + t->ys[a]] - too;
            t->dclose[a] = t->trans[t->ys[a] * NL + o] - too;
            for (int b = 0; b < 3; b++) t->dext[a][b] = t->trans[t->ys[a] * NL + t->ys[b]] - too;
        }
    }
    t->ready = 1;
    rc = 0;
done:
    PyBuffer_Release(&trans);
    PyBuffer_Release(&vecs);
    return rc;
}

/* vt: t->vec (state scores) or t->dvec (the skip bound's differences) */
static inline void add_vec(const double *vt, double *acc, int32_t v) {
    if (v >= 0) {
        const double *w = vt + (Py_ssize_t)v * NL;
        for (int y = 0; y < NL; y++) acc[y] += w[y];
    }
}

static inline void add_z(const double *vt, double *acc, int32_t v) { /* v >= 0 (maybe the zero vector) */
    const double *w = vt + (Py_ssize_t)v * NL;
    for (int y = 0; y < NL; y++) acc[y] += w[y];
}

static inline void add_list(const TaggerObject *t, double *acc, List l) {
    for (int32_t k = 0; k < l.len; k++) add_vec(t->vec, acc, t->pool[l.off + k]);
}

typedef struct { int32_t pos, vec; } GzEv;

/* per-call work buffers, sized for the longest piece and reused across the pieces of a text */
typedef struct {
    Py_ssize_t cap;
    const CharInfo **ci;
    const double **row;     /* the bound's row (TaggerObject.rc) of each padded slot (prepare) */
    uint8_t *bb;            /* bi_bit() of each padded slot's character (prepare) */
    int32_t *wbv, *wev;     /* vector of the longest word starting / ending here (zero vector: none) */
    uint8_t *wbl, *wel, *inside; /* wel[-1] exists; wel[-1] and wbl[n] stay 0 */
    double *state, *score;
    int *labels, *back;
    GzEv *ev; Py_ssize_t nev, cev; /* gazetteer events of the current piece */
    int32_t *gstart, *gvec, *gfill; Py_ssize_t cgvec; /* the events grouped by position */
    uint64_t *ph;           /* prepare: hash of the pair of characters starting at each position */
    uint8_t *hit;           /* prepare: bit 0 the lexicon filter, bit 1 the gazetteer filter passes there */
} Scratch;

static void scratch_free(Scratch *s) {
    PyMem_Free(s->ci); PyMem_Free(s->row); PyMem_Free(s->bb); PyMem_Free(s->wbv); PyMem_Free(s->wev); PyMem_Free(s->wbl); if (s->wel) PyMem_Free(s->wel - 1);
    PyMem_Free(s->inside); PyMem_Free(s->state); PyMem_Free(s->score); PyMem_Free(s->labels); PyMem_Free(s->back);
    PyMem_Free(s->ev); PyMem_Free(s->gstart); PyMem_Free(s->gvec); PyMem_Free(s->gfill);
    PyMem_Free(s->ph); PyMem_Free(s->hit);
    memset(s, 0, sizeof(*s));
}

static int scratch_fit(Scratch *s, Py_ssize_t n) {
    if (n <= s->cap) return 0;
    scratch_free(s);
    s->ci = PyMem_Malloc((n + 4) * sizeof(CharInfo *));
    s->row = PyMem_Malloc((n + 4) * sizeof(double *));
    s->bb = PyMem_Malloc(n + 4);
    s->wbv = PyMem_Malloc((n + 1) * sizeof(int32_t));
    s->wev = PyMem_Malloc((n + 1) * sizeof(int32_t));
    s->wbl = PyMem_Malloc(n + 1);
    s->wel = PyMem_Malloc(n + 2); /* wel[-1] exists (always 0): add_words reads it at position 0 */
    if (s->wel) s->wel++;
    s->inside = PyMem_Malloc(n + 1);
    s->state = PyMem_Malloc(n * NL * sizeof(double)); s->score = PyMem_Malloc(n * NL * sizeof(double));
    s->labels = PyMem_Malloc(n * sizeof(int)); s->back = PyMem_Malloc(n * NL * sizeof(int));
    s->gstart = PyMem_Malloc((n + 1) * sizeof(int32_t)); s->gfill = PyMem_Malloc((n + 1) * sizeof(int32_t));
    s->ph = PyMem_Malloc((n + 1) * sizeof(uint64_t)); s->hit = PyMem_Malloc(n + 1);
    if (!s->ci || !s->row || !s->bb || !s->wbv || !s->wev || !s->wbl || !s->wel || !s->inside || !s->state || !s->score || !s->labels ||
        !s->back || !s->gstart || !s->gfill || !s->ph || !s->hit) {
        scratch_free(s);
        PyErr_NoMemory();
        return -1;
    }
    s->cap = n;
    return 0;
}

/* a lexicon word of L characters at i (words come longest first at each i, and i increasing) */
static inline void note_word(Scratch *sc, Py_ssize_t i, int L, int16_t wb, int16_t we) {
    if (!sc->wbl[i]) { sc->wbv[i] = wb; sc->wbl[i] = (uint8_t)L; }
    Py_ssize_t last = i + L - 1;
    if (sc->wel[last] < L) { sc->wev[last] = we; sc->wel[last] = (uint8_t)L; }
    for (Py_ssize_t k = i + 1; k < last; k++)
        if (sc->inside[k] < L) sc->inside[k] = (uint8_t)L;
}

/* Features of a piece (n >= 1, n <= capacity) that need look-ups: the characters' table entries, the
   longest lexicon words starting / ending at / straddling each position, the gazetteer events grouped by
   position (sc->gstart/gvec when sc->nev > 0). */
static int prepare(const TaggerObject *t, const uint32_t *pad, Py_ssize_t n, Scratch *sc) {
    if (n <= 0 || n > sc->cap) { /* callers pass 1 <= n <= capacity */
        PyErr_SetString(PyExc_SystemError, "_namescan: bad piece length");
        return -1;
    }
    const uint32_t *text = pad + 2;
    const CharInfo **ci = sc->ci;
    int32_t *wbv = sc->wbv, *wev = sc->wev;
    uint8_t *wbl = sc->wbl, *wel = sc->wel, *inside = sc->inside;
    for (Py_ssize_t i = 0; i <= n; i++) wbv[i] = wev[i] = t->zero;
    memset(wbl, 0, n + 1); memset(wel - 1, 0, n + 2); memset(inside, 0, n + 1);
    sc->nev = 0;
    const double **row = sc->row;
    uint8_t *bb = sc->bb;
    for (Py_ssize_t p = 0; p < n + 4; p++) {
        ci[p] = char_info(t, pad[p]);
        row[p] = t->rc[ci[p]->id][0];
        bb[p] = (uint8_t)bi_bit(pad[p]);
    }
    row[0] = row[n + 3] = t->rc[t->row_zero][0];
    row[1] = t->rc[t->row_padl][0];
    row[n + 2] = t->rc[t->row_padr][0];
    /* longest lexicon word starting / ending at each position, and the longest straddling one */
    /* per position (words and gazetteer entries have 2 characters or more: none starts at the last one):
       the longest lexicon word starting / ending at each position and the longest straddling one, then
       the gazetteer events in the order namemodel appends them */
    /* pass 1, without a branch on the filters: both filters' answers for every position. The lexicon filter
       (512 KB) misses the cache often; with no branch between them the processor overlaps these loads
       instead of waiting for each behind a mispredicted branch (half the positions pass) */
    uint64_t *phs = sc->ph;
    uint8_t *hit = sc->hit;
    for (Py_ssize_t i = 0; i + 1 < n; i++) {
        const uint64_t ph = mix64(pair_key(text[i], text[i + 1]));
        phs[i] = ph;
        hit[i] = (uint8_t)(lbloom_has(lex_block(t, ph), ph) |
                           ((ci[i + 2]->glen != 0) & bloom_has(t->gbloom, GBLOOM_BITS, ph)) << 1);
    }
    /* pass 2: the look-ups where a filter passed */
    for (Py_ssize_t i = 0; i + 1 < n; i++) {
        if (!hit[i]) continue;
        const uint64_t ph = phs[i], pk = pair_key(text[i], text[i + 1]);
        const uint64_t *blk = lex_block(t, ph);
        if (hit[i] & 1) { /* some word starts with these two characters */
            const uint32_t key2 = lex2_key(text[i], text[i + 1]);
            /* lengths 4, 3, 2 in turn (the longest word starting here first) */
            if (lbloom_has(blk, long_bits(ph))) { /* else no 3-4 character word starts here */
                for (int L = 4; L >= 3; L--) {
                    if (i + L > n) continue;
                    const LexEntry *e = lex_get(t, blk, text + i, L);
                    if (e) note_word(sc, i, L, e->wb, e->we);
                }
            }
            if (key2) {
                const Lex2Entry *e = lex2_get(t, key2);
                if (e) note_word(sc, i, 2, e->wb, e->we);
            } else {
                const LexEntry *e = lex_get(t, blk, text + i, 2);
                if (e) note_word(sc, i, 2, e->wb, e->we);
            }
        }
        if (!(hit[i] & 2)) continue;
        int32_t gl = ci[i + 2]->glen;
        const GazPrefix *gp = gpre_slot_h(t, pk, ph);
        if (!gp->key) continue;
        for (Py_ssize_t L = 2; L <= gl; L++) {
            if (i + L > n) break;
            if (L < 64 && !(gp->lens >> L & 1)) continue;
            const GazEntry *g = gaz_get(t, text + i, L);
            if (!g) continue;
            for (int32_t k = 0; k < g->kinds.len; k++) {
                const int32_t *v = t->pool + g->kinds.off + 5 * k; /* gB gE gI gN gP */
                Py_ssize_t need = sc->nev + L + 3;
                if (need > sc->cev) {
                    Py_ssize_t c = need * 2 + 64;
                    GzEv *q = PyMem_Realloc(sc->ev, c * sizeof(GzEv));
                    if (!q) { PyErr_NoMemory(); return -1; }
                    sc->ev = q; sc->cev = c;
                }
                GzEv *ev = sc->ev;
                Py_ssize_t nev = sc->nev;
                ev[nev++] = (GzEv){(int32_t)i, v[0]};
                ev[nev++] = (GzEv){(int32_t)(i + L - 1), v[1]};
                for (Py_ssize_t j = i + 1; j < i + L - 1; j++) ev[nev++] = (GzEv){(int32_t)j, v[2]};
                if (i > 0) ev[nev++] = (GzEv){(int32_t)(i - 1), v[3]};
                if (i + L < n) ev[nev++] = (GzEv){(int32_t)(i + L), v[4]};
                sc->nev = nev;
            }
        }
    }
    if (sc->nev) { /* group by position, keeping the order of appending (counting sort) */
        Py_ssize_t nev = sc->nev;
        if (nev > sc->cgvec) {
            int32_t *q = PyMem_Realloc(sc->gvec, (nev * 2 + 64) * sizeof(int32_t));
            if (!q) { PyErr_NoMemory(); return -1; }
            sc->gvec = q; sc->cgvec = nev * 2 + 64;
        }
        int32_t *gstart = sc->gstart, *fill = sc->gfill;
        memset(gstart, 0, (n + 1) * sizeof(int32_t));
        for (Py_ssize_t k = 0; k < nev; k++) gstart[sc->ev[k].pos + 1]++;
        for (Py_ssize_t i = 0; i < n; i++) gstart[i + 1] += gstart[i];
        memcpy(fill, gstart, (n + 1) * sizeof(int32_t));
        for (Py_ssize_t k = 0; k < nev; k++) sc->gvec[fill[sc->ev[k].pos]++] = sc->ev[k].vec;
    }
    return 0;
}

/* The bigram attributes of position p of the padded text (p = i + 2), added to acc in template order. One
   body for position_score (crfsuite's order) and max_gain (the bound), so the two read the same features. */
static inline void add_bigrams(const TaggerObject *t, const double *vt, const Scratch *sc, const uint32_t *pad,
                               Py_ssize_t p, double *acc) {
    const CharInfo **ci = sc->ci;
    const uint8_t *bb = sc->bb;
    if (ci[p - 1]->bm[0] >> bb[p] & 1) add_vec(vt, acc, bi_find(t, ci[p - 1], 0, pad[p]));
    if (ci[p]->bm[1] >> bb[p + 1] & 1) add_vec(vt, acc, bi_find(t, ci[p], 1, pad[p + 1]));
    if (ci[p - 2]->bm[2] >> bb[p - 1] & 1) add_vec(vt, acc, bi_find(t, ci[p - 2], 2, pad[p - 1]));
    if (ci[p + 1]->bm[3] >> bb[p + 2] & 1) add_vec(vt, acc, bi_find(t, ci[p + 1], 3, pad[p + 2]));
}

/* The lexicon and gazetteer features of position i of a piece of n characters (after prepare), in the Python
   feature order; shared by position_score and max_gain like add_bigrams. */
static inline void add_words(const TaggerObject *t, const double *vt, const Scratch *sc, Py_ssize_t n, Py_ssize_t i,
                             double *acc) {
    add_z(vt, acc, sc->wbv[i]);
    add_z(vt, acc, sc->wev[i]);
    add_z(vt, acc, t->win[sc->inside[i]]);
    add_z(vt, acc, t->pwe[sc->wel[i - 1]]); /* wel[-1] and wbl[n] are 0 (prepare) */
    add_z(vt, acc, t->nwb[sc->wbl[i + 1]]);
    if (sc->nev)
        for (int32_t k = sc->gstart[i]; k < sc->gstart[i + 1]; k++) add_vec(vt, acc, sc->gvec[k]);
}

/* The state score of position i (after prepare), summed in the Python feature order (crfsuite's). */
static inline void position_score(const TaggerObject *t, const uint32_t *pad, Py_ssize_t n, Py_ssize_t i,
                                  const Scratch *sc, double *out) {
    const CharInfo **ci = sc->ci;
    Py_ssize_t p = i + 2;
    double acc[NL] = {0.0, 0.0, 0.0, 0.0}; /* a local: kept in registers, not aliased with the tables */
    add_z(t->vec, acc, ci[p]->uni[0]);
    add_z(t->vec, acc, ci[p - 1]->uni[1]);
    add_z(t->vec, acc, ci[p + 1]->uni[2]);
    add_z(t->vec, acc, ci[p - 2]->uni[3]);
    add_z(t->vec, acc, ci[p + 2]->uni[4]);
    add_bigrams(t, t->vec, sc, pad, p, acc);
    add_list(t, acc, ci[p]->st[0]);
    add_list(t, acc, i == 0 ? t->bos : ci[p - 1]->st[1]);
    add_list(t, acc, i == n - 1 ? t->eos : ci[p + 1]->st[2]);
    if (i > 1) add_list(t, acc, ci[p - 2]->st[3]);
    if (i + 2 < n) add_list(t, acc, ci[p + 2]->st[4]);
    add_words(t, t->vec, sc, n, i, acc);
    memcpy(out, acc, sizeof(acc));
}

/* State scores of a piece (after prepare): state[i*NL + y], bit for bit crfsuite's. */
static void state_scores(const TaggerObject *t, const uint32_t *pad, Py_ssize_t n, double *state, const Scratch *sc) {
    for (Py_ssize_t i = 0; i < n; i++) position_score(t, pad, n, i, sc, state + i * NL);
}

/*
 * EXACT SKIP. Claim: if max_gain() < -SKIP_SLACK, crfsuite's Viterbi labels the piece all O, so the piece
 * yields no name span (to_spans needs a B and an E) and tagging it can be skipped.
 *
 * Proof. Let s[i][y] be the state scores and T the transition weights; a path's score is the sum of its
 * state scores and transitions. Take any path with a non-O label and one of its maximal runs of non-O
 * labels, positions a..b (so a-1 and b+1, where they exist, are O). Relabelling a..b as O changes the
 * score by minus the run's GAIN:
 *     G = sum_{i=a..b} (s[i][y_i] - s[i][O])
 *       + [a > 0]   (T[O][y_a] - T[O][O])
 *       + sum_{i=a..b-1} (T[y_i][y_{i+1}] - T[O][O])
 *       + [b < n-1] (T[y_b][O] - T[O][O]).
 * Runs are separated by at least one O, so they touch disjoint transitions and their changes add up. If
 * every possible run (every a <= b, every labelling of it with B/I/E) has G < -SLACK, then the all-O path
 * scores more than SLACK above every other path. The loop below computes max G exactly as a max-plus
 * dynamic programme over (end position, last label): g[y] = best gain of a run ending at i with label y,
 *     g_i[y] = d_i[y] + max([i > 0] (T[O][y] - T[O][O]), max_{y'} g_{i-1}[y'] + T[y'][y] - T[O][O]),
 * and a run ending at i is closed with [i < n-1] (T[y][O] - T[O][O]). The closed runs are kept as the largest
 * g per label before the last position, their closing transition added at the end (rounding is monotonic, so
 * max_i g_i[y] + c is max_i (g_i[y] + c) exactly); maxima are exact in any order.
 * d_i[y] = s[i][y] - s[i][O] is summed from the same feature vectors as position_score() adds, as their
 * differences (TaggerObject.dvec: w[y] - w[O], each rounded once, < 100 * 2^-53 off) and in another order
 * (the per-character rows of TaggerObject.rc and the padding rows are pre-added), so it differs from the
 * d crfsuite computes by rounding only (the differences add < 1.2e-11 per position, < 3e-8 over a piece:
 * inside the 5e-5 below). Tagger_init turns the skip off unless every weight is below
 * SKIP_MAX_W = 100 in size (the shipped model's are below 10) and a position has fewer than SKIP_MAX_F =
 * 1000 features (also checked there, from the gazetteer's longest word: about 190 for the shipped tables), so
 * a state score is below 1e5 and is off by < 1e-8 (here and in crfsuite), and Viterbi's running sums over
 * n <= SKIP_MAX_N = 2048 positions stay below 2.1e8 in size with at most about 4n roundings of 2^-53 of
 * that: < 4e-4; the run programme here errs by as much again, and the per-position errors add < 5e-5
 * (all far smaller for the sentence pieces of tag_text, at most 300 characters: < 1e-5). Together < 9e-4,
 * so a margin of SKIP_SLACK = 1e-3 survives rounding: the path crfsuite's Viterbi returns is the all-O path, and tag_cps would output no
 * span. Ties (as with an all-zero model) give gain 0 >= -SKIP_SLACK and are never skipped.
 * tests/corpus/test_namescan.py checks on dev, generated and random text that every skipped piece's full
 * Viterbi labels are all O, and that the gain computed here equals one computed from the Python features.
 */

#define MAX2(a, b) ((a) > (b) ? (a) : (b))
static double max_gain(const TaggerObject *t, const uint32_t *pad, Py_ssize_t n, Scratch *sc) {
    const double *start = t->dstart, *close = t->dclose;
    const double (*ext)[3] = t->dext;
    /* one loop: d_i (independent per position) and the run programme's step (a dependency chain from one
       position to the next), so the processor overlaps the chain with the next positions' sums. The maxima
       are taken as a tree (shorter chain); a maximum of the same numbers in another order is the same number.
       m: the largest g of each label before the current position (the closed runs, see above). */
#if defined(__SSE2__)
    /* labels 0 and 1 in the two lanes of a register, label 2 alone: the same additions and maxima as the
       scalar code below (_mm_max_pd(a, b) is a > b ? a : b, as MAX2), in fewer instructions */
    const __m128d e0 = _mm_set_pd(ext[0][1], ext[0][0]), e1 = _mm_set_pd(ext[1][1], ext[1][0]);
    const __m128d e2 = _mm_set_pd(ext[2][1], ext[2][0]), s01 = _mm_set_pd(start[1], start[0]);
    const __m128d x2 = _mm_set_pd(ext[1][2], ext[0][2]); /* (g0 + ext[0][2], g1 + ext[1][2]) */
    const double e22 = ext[2][2], s2 = start[2];
    __m128d g01 = _mm_setzero_pd(), m01 = _mm_set1_pd(-DBL_MAX);
    double g2 = 0.0, m2 = -DBL_MAX;
#else
    double g0 = 0.0, g1 = 0.0, g2 = 0.0;
    double m0 = -DBL_MAX, m1 = -DBL_MAX, m2 = -DBL_MAX;
#endif
    const double *const *row = sc->row;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t p = i + 2;
        /* the padding slots' rows (ROW_PADL/PADR/ZERO) stand for the boundary cases */
        const double *r0 = row[p], *l1 = row[p - 1] + NL, *l2 = row[p - 2] + 3 * NL;
        const double *r1 = row[p + 1] + 2 * NL, *r2 = row[p + 2] + 4 * NL;
        double bw[NL] = {0.0, 0.0, 0.0, 0.0}, ww[NL] = {0.0, 0.0, 0.0, 0.0}, acc[NL];
        add_bigrams(t, t->dvec, sc, pad, p, bw);
        { /* add_words' features, the three neighbour ones from wtab (word lengths are at most 4) */
            const double *dv = t->dvec, *wa = dv + (Py_ssize_t)sc->wbv[i] * NL, *we = dv + (Py_ssize_t)sc->wev[i] * NL;
            const double *wt = t->wtab[(sc->inside[i] * 5 + sc->wel[i - 1]) * 5 + sc->wbl[i + 1]];
            for (int y = 0; y < NL; y++) ww[y] = (wa[y] + we[y]) + wt[y];
            if (sc->nev)
                for (int32_t k = sc->gstart[i]; k < sc->gstart[i + 1]; k++) add_vec(dv, ww, sc->gvec[k]);
        }
        /* summed as a tree (shorter chains); d_i[y] = state[i][y] - state[i][O] up to rounding (see above) */
        for (int y = 0; y < NL; y++) acc[y] = ((r0[y] + l1[y]) + (l2[y] + r1[y])) + (r2[y] + (bw[y] + ww[y]));
#if defined(__SSE2__)
        const __m128d d01 = _mm_loadu_pd(acc);
        if (i == 0) {
            g01 = d01; g2 = acc[2];
            continue;
        }
        m01 = _mm_max_pd(m01, g01); m2 = MAX2(m2, g2);
        const __m128d b0 = _mm_unpacklo_pd(g01, g01), b1 = _mm_unpackhi_pd(g01, g01), b2 = _mm_set1_pd(g2);
        const __m128d f01 = _mm_max_pd(_mm_max_pd(s01, _mm_add_pd(b0, e0)), _mm_max_pd(_mm_add_pd(b1, e1), _mm_add_pd(b2, e2)));
        const __m128d x = _mm_add_pd(g01, x2);
        const double f2 = MAX2(MAX2(s2, g2 + e22), MAX2(_mm_cvtsd_f64(x), _mm_cvtsd_f64(_mm_unpackhi_pd(x, x))));
        g01 = _mm_add_pd(d01, f01);
        g2 = acc[2] + f2;
#else
        const double d0 = acc[0], d1 = acc[1], d2 = acc[2];
        if (i == 0) {
            g0 = d0; g1 = d1; g2 = d2;
            continue;
        }
        m0 = MAX2(m0, g0); m1 = MAX2(m1, g1); m2 = MAX2(m2, g2);
        const double e00 = g0 + ext[0][0], e10 = g1 + ext[1][0], e20 = g2 + ext[2][0];
        const double e01 = g0 + ext[0][1], e11 = g1 + ext[1][1], e21 = g2 + ext[2][1];
        const double e02 = g0 + ext[0][2], e12 = g1 + ext[1][2], e22 = g2 + ext[2][2];
        g0 = d0 + MAX2(MAX2(start[0], e00), MAX2(e10, e20));
        g1 = d1 + MAX2(MAX2(start[1], e01), MAX2(e11, e21));
        g2 = d2 + MAX2(MAX2(start[2], e02), MAX2(e12, e22));
#endif
    }
#if defined(__SSE2__)
    const double g0 = _mm_cvtsd_f64(g01), g1 = _mm_cvtsd_f64(_mm_unpackhi_pd(g01, g01));
    const double m0 = _mm_cvtsd_f64(m01), m1 = _mm_cvtsd_f64(_mm_unpackhi_pd(m01, m01));
#endif
    /* closed runs, and a run ending at the last position (no closing transition) */
    const double best = MAX2(m0 + close[0], MAX2(m1 + close[1], m2 + close[2]));
    return MAX2(best, MAX2(g0, MAX2(g1, g2)));
}
#undef MAX2

/* Viterbi as crfsuite's crf1dc_viterbi: labels[i] = model label id */
static int viterbi(const TaggerObject *t, const double *state, Py_ssize_t n, int *labels, Scratch *sc) {
    double *score = sc->score;
    int *back = sc->back;
    for (int j = 0; j < NL; j++) score[j] = state[j];
    for (Py_ssize_t i = 1; i < n; i++) {
        const double *prev = score + (i - 1) * NL;
        double *cur = score + i * NL;
        for (int j = 0; j < NL; j++) {
            double best = -DBL_MAX;
            int arg = 0;
            for (int k = 0; k < NL; k++) {
                double s = prev[k] + t->trans[k * NL + j];
                if (best < s) { best = s; arg = k; }
            }
            back[i * NL + j] = arg;
            cur[j] = best + state[i * NL + j];
        }
    }
    double best = -DBL_MAX;
    labels[n - 1] = 0;
    for (int j = 0; j < NL; j++)
        if (best < score[(n - 1) * NL + j]) { best = score[(n - 1) * NL + j]; labels[n - 1] = j; }
    for (Py_ssize_t i = n - 2; i >= 0; i--) labels[i] = back[(i + 1) * NL + labels[i + 1]];
    return 0;
}

/* Scaled forward-backward as crfsuite's crf1dc_alpha_score / crf1dc_beta_score; marg[i] = marginal of
   labels[i] at i (fwd * bwd / scale). */
static int marginals(const TaggerObject *t, const double *state, Py_ssize_t n, const int *labels, double *marg) {
    double et[NL * NL];
    for (int k = 0; k < NL * NL; k++) et[k] = exp(t->trans[k]);
    double *es = PyMem_Malloc(n * NL * sizeof(double));
    double *alpha = PyMem_Malloc(n * NL * sizeof(double));
    double *beta = PyMem_Malloc(n * NL * sizeof(double));
    double *scale = PyMem_Malloc(n * sizeof(double));
    if (!es || !alpha || !beta || !scale) {
        PyMem_Free(es); PyMem_Free(alpha); PyMem_Free(beta); PyMem_Free(scale);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < n * NL; k++) es[k] = exp(state[k]);
    double sum = 0.0;
    for (int j = 0; j < NL; j++) { alpha[j] = es[j]; sum += alpha[j]; }
    scale[0] = (sum != 0.0) ? 1.0 / sum : 1.0;
    for (int j = 0; j < NL; j++) alpha[j] *= scale[0];
    for (Py_ssize_t i = 1; i < n; i++) {
        const double *prev = alpha + (i - 1) * NL;
        double *cur = alpha + i * NL;
        for (int j = 0; j < NL; j++) cur[j] = 0.0;
        for (int k = 0; k < NL; k++)
            for (int j = 0; j < NL; j++) cur[j] += prev[k] * et[k * NL + j];
        sum = 0.0;
        for (int j = 0; j < NL; j++) { cur[j] *= es[i * NL + j]; sum += cur[j]; }
        scale[i] = (sum != 0.0) ? 1.0 / sum : 1.0;
        for (int j = 0; j < NL; j++) cur[j] *= scale[i];
    }
    for (int j = 0; j < NL; j++) beta[(n - 1) * NL + j] = scale[n - 1];
    for (Py_ssize_t i = n - 2; i >= 0; i--) {
        double row[NL];
        for (int j = 0; j < NL; j++) row[j] = beta[(i + 1) * NL + j] * es[(i + 1) * NL + j];
        for (int k = 0; k < NL; k++) {
            double s = 0.0;
            for (int j = 0; j < NL; j++) s += et[k * NL + j] * row[j];
            beta[i * NL + k] = s;
        }
        for (int k = 0; k < NL; k++) beta[i * NL + k] *= scale[i];
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        int y = labels[i];
        marg[i] = alpha[i * NL + y] * beta[i * NL + y] / scale[i];
    }
    PyMem_Free(es); PyMem_Free(alpha); PyMem_Free(beta); PyMem_Free(scale);
    return 0;
}

/* tag n code points at pad + 2 (pad holds 2 free slots on either side, overwritten): spans appended to
   out with offset added */
static int tag_cps(const TaggerObject *t, uint32_t *pad, Py_ssize_t n, Py_ssize_t offset, PyObject *out, Scratch *sc) {
    if (n == 0) return 0;
    if (scratch_fit(sc, n) < 0) return -1;
    uint32_t save[4] = {pad[0], pad[1], pad[n + 2], pad[n + 3]};
    pad[0] = pad[1] = '^';
    pad[n + 2] = pad[n + 3] = '$';
    int rc = -1;
    double *state = sc->state;
    int *labels = sc->labels;
    double *marg = NULL;
    if (prepare(t, pad, n, sc) < 0) goto done;
    if (!t->noskip && !t->noskip_model && n <= SKIP_MAX_N && max_gain(t, pad, n, sc) < -SKIP_SLACK) { /* no span: see max_gain */
        rc = 0;
        goto done;
    }
    state_scores(t, pad, n, state, sc);
    if (viterbi(t, state, n, labels, sc) < 0) goto done;
    Py_ssize_t start = -1;
    for (Py_ssize_t i = 0; i < n; i++) { /* namemodel.to_spans */
        char c = t->lab[labels[i]];
        if (c == 'B') start = i;
        else if (c == 'E' && start >= 0) {
            if (!marg) {
                marg = PyMem_Malloc(n * sizeof(double));
                if (!marg) { PyErr_NoMemory(); goto done; }
                if (marginals(t, state, n, labels, marg) < 0) goto done;
            }
            double m = marg[start];
            for (Py_ssize_t k = start + 1; k <= i; k++)
                if (marg[k] < m) m = marg[k];
            PyObject *item = Py_BuildValue("(nnd)", offset + start, offset + i + 1, m);
            if (!item || PyList_Append(out, item) < 0) { Py_XDECREF(item); goto done; }
            Py_DECREF(item);
            start = -1;
        } else if (c == 'O') start = -1;
    }
    rc = 0;
done:
    pad[0] = save[0]; pad[1] = save[1]; pad[n + 2] = save[2]; pad[n + 3] = save[3];
    PyMem_Free(marg);
    return rc;
}

/* shared by labels() and marginals(): code points, state scores, Viterbi labels */
static int run(TaggerObject *t, PyObject *text, uint32_t **pad_out, double **state_out, int **labels_out, Py_ssize_t *n_out) {
    Py_ssize_t n;
    uint32_t *pad = to_cps(text, 2, &n);
    if (!pad) return -1;
    *pad_out = pad; *n_out = n; *state_out = NULL; *labels_out = NULL;
    if (n == 0) return 0;
    pad[0] = pad[1] = '^';
    pad[n + 2] = pad[n + 3] = '$';
    double *state = PyMem_Malloc(n * NL * sizeof(double));
    int *labels = PyMem_Malloc(n * sizeof(int));
    *state_out = state; *labels_out = labels;
    if (!state || !labels) { PyErr_NoMemory(); return -1; }
    Scratch sc = {0};
    int rc = scratch_fit(&sc, n) < 0 || prepare(t, pad, n, &sc) < 0 ? -1 : 0;
    if (rc == 0) {
        state_scores(t, pad, n, state, &sc);
        rc = viterbi(t, state, n, labels, &sc);
    }
    scratch_free(&sc);
    return rc;
}

/* a Tagger whose __init__ did not run or failed has no tables: an error instead of a crash */
static int ready(const TaggerObject *t) {
    if (!t->ready) PyErr_SetString(PyExc_RuntimeError, "Tagger is not initialised (its __init__ did not complete)");
    return t->ready;
}

/* max_gain(text) -> the largest gain of a non-O run (see max_gain above; for tests): the piece is skipped
   when it is below -SKIP_SLACK */
static PyObject *Tagger_max_gain(TaggerObject *t, PyObject *text) {
    if (!ready(t)) return NULL;
    Py_ssize_t n;
    uint32_t *pad = to_cps(text, 2, &n);
    if (!pad) return NULL;
    PyObject *out = NULL;
    Scratch sc = {0};
    if (n == 0) { out = PyFloat_FromDouble(-DBL_MAX); goto done; }
    pad[0] = pad[1] = '^';
    pad[n + 2] = pad[n + 3] = '$';
    if (scratch_fit(&sc, n) < 0 || prepare(t, pad, n, &sc) < 0) goto done;
    out = PyFloat_FromDouble(max_gain(t, pad, n, &sc));
done:
    scratch_free(&sc);
    PyMem_Free(pad);
    return out;
}

static PyObject *Tagger_set_skip(TaggerObject *t, PyObject *flag) {
    int v = PyObject_IsTrue(flag);
    if (v < 0) return NULL;
    t->noskip = !v;
    Py_RETURN_NONE;
}

static PyObject *Tagger_tag(TaggerObject *t, PyObject *text) {
    if (!ready(t)) return NULL;
    Py_ssize_t n;
    uint32_t *pad = to_cps(text, 2, &n);
    if (!pad) return NULL;
    PyObject *out = PyList_New(0);
    Scratch sc = {0};
    if (out && tag_cps(t, pad, n, 0, out, &sc) < 0) Py_CLEAR(out);
    scratch_free(&sc);
    PyMem_Free(pad);
    return out;
}

/* names.py's sentence pieces (_SENT, _MAX_PIECE, _BREAK): terminators end a sentence */
static inline int is_term(uint32_t c) {
    if (c - 0x3003u < 0xff01u - 0x3003u) return 0; /* one test for the Chinese characters (none is a terminator) */
    switch (c) {
    case 0x3002: case 0xff01: case 0xff1f: case '!': case '?': case 0xff1b: case ';': case '\n': return 1;
    default: return 0;
    }
}

static inline int is_break(uint32_t c) {
    return c == 0xff0c || c == ',' || c == 0x3001 || c == 0xff1a || c == ':' || Py_UNICODE_ISSPACE(c);
}

typedef struct { Py_ssize_t s, e; } Trig;

static int trig_cmp(const void *x, const void *y) {
    const Trig *a = x, *b = y;
    return a->s < b->s ? -1 : a->s > b->s;
}

/* tag_text(text, max_piece, triggers=None, upper=False) -> [(start, end, smallest marginal)] over the whole
   text: the pieces of names._pieces, skipping a piece without a Chinese character (U+4E00..U+9FFF) or, when
   triggers (sorted (start, end) pairs) are given, a piece no trigger overlaps; one call instead of one per
   piece. upper=True: (that list, whether the text holds an ASCII capital A-Z). */
/* 1 if text holds an ASCII capital A-Z (names.py's _UPPER): branch-free per character, so the compiler
   vectorises it; checked in blocks of 4096 characters so a capital near the start ends the scan early */
#define HAS_UPPER_LOOP(T)                                                        \
    do {                                                                         \
        const T *s_ = (const T *)data;                                           \
        for (Py_ssize_t a_ = 0; a_ < n; a_ += 4096) {                             \
            Py_ssize_t e_ = a_ + 4096 < n ? a_ + 4096 : n;                        \
            unsigned f_ = 0;                                                     \
            for (Py_ssize_t k_ = a_; k_ < e_; k_++) f_ |= (uint32_t)s_[k_] - 'A' < 26u; \
            if (f_) return 1;                                                    \
        }                                                                        \
    } while (0)
static int has_upper(PyObject *text) {
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const void *data = PyUnicode_DATA(text);
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND: HAS_UPPER_LOOP(Py_UCS1); break;
    case PyUnicode_2BYTE_KIND: HAS_UPPER_LOOP(Py_UCS2); break;
    default: HAS_UPPER_LOOP(Py_UCS4); break;
    }
    return 0;
}
#undef HAS_UPPER_LOOP

/* tag_text's walk over the pieces of a text of n code units of type T (one function per str kind, so the
   loops read the text directly): names._pieces, skipping pieces without a Chinese character and, unless
   all, pieces no trigger overlaps; each piece (at most maxp characters) is copied into pad and tagged */
#define DEFINE_PIECES(NAME, T)                                                                              \
    static int NAME(const TaggerObject *t, const T *s, Py_ssize_t n, Py_ssize_t maxp, int all, const Trig *ts, \
                    Py_ssize_t nt, uint32_t *pad, PyObject *out, Scratch *sc) {                             \
        Py_ssize_t i = 0, j = 0, maxte = -1; /* triggers starting before the piece's end, their latest end */ \
        while (i < n) {                                                                                     \
            Py_ssize_t a = i;                                                                               \
            if (is_term(s[i])) { /* terminators at the start of the text form a piece of their own */       \
                while (i < n && is_term(s[i])) i++;                                                         \
            } else {                                                                                        \
                while (i < n && !is_term(s[i])) i++;                                                        \
                while (i < n && is_term(s[i])) i++;                                                         \
            }                                                                                               \
            Py_ssize_t b = i;                                                                               \
            for (;;) { /* a long sentence: cut at the last comma/colon/space in [a + max/2, a + max) */     \
                Py_ssize_t e = b;                                                                           \
                if (b - a > maxp) {                                                                         \
                    e = 0;                                                                                  \
                    for (Py_ssize_t k = a + maxp / 2; k < a + maxp; k++)                                    \
                        if (is_break(s[k])) e = k + 1;                                                      \
                    if (!e) e = a + maxp;                                                                   \
                }                                                                                           \
                int cjk = 0, hit = all;                                                                     \
                for (Py_ssize_t k = a; k < e && !cjk; k++) cjk = s[k] >= 0x4e00 && s[k] <= 0x9fff;          \
                if (!hit) { /* some trigger overlaps [a, e): one with start < e ends after a */              \
                    for (; j < nt && ts[j].s < e; j++)                                                      \
                        if (ts[j].e > maxte) maxte = ts[j].e;                                               \
                    hit = maxte > a;                                                                        \
                }                                                                                           \
                if (cjk && hit) {                                                                           \
                    for (Py_ssize_t k = a; k < e; k++) pad[2 + k - a] = s[k];                               \
                    if (tag_cps(t, pad, e - a, a, out, sc) < 0) return -1;                                  \
                }                                                                                           \
                if (e == b) break;                                                                          \
                a = e;                                                                                      \
            }                                                                                               \
        }                                                                                                   \
        return 0;                                                                                           \
    }
DEFINE_PIECES(pieces1, Py_UCS1)
DEFINE_PIECES(pieces2, Py_UCS2)
DEFINE_PIECES(pieces4, Py_UCS4)
#undef DEFINE_PIECES

static PyObject *Tagger_tag_text(TaggerObject *t, PyObject *args) {
    if (!ready(t)) return NULL;
    PyObject *text, *trig = Py_None;
    Py_ssize_t maxp;
    int want_upper = 0;
    if (!PyArg_ParseTuple(args, "Un|Op", &text, &maxp, &trig, &want_upper)) return NULL;
    if (maxp < 2) { PyErr_SetString(PyExc_ValueError, "max_piece must be at least 2"); return NULL; }
    Trig *ts = NULL;
    Py_ssize_t nt = 0;
    if (trig != Py_None) {
        PyObject *f = PySequence_Fast(trig, "triggers: a sequence of (start, end)");
        if (!f) return NULL;
        nt = PySequence_Fast_GET_SIZE(f);
        ts = PyMem_Malloc((nt + 1) * sizeof(Trig));
        if (!ts) { Py_DECREF(f); return PyErr_NoMemory(); }
        for (Py_ssize_t k = 0; k < nt; k++)
            if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(f, k), "nn", &ts[k].s, &ts[k].e)) {
                PyMem_Free(ts); Py_DECREF(f); return NULL;
            }
        Py_DECREF(f);
    }
    if (nt > 1) qsort(ts, nt, sizeof(Trig), trig_cmp);
    /* the text is read in place; each piece (at most maxp characters) is copied into pad: memory stays
       bounded on a text of any size */
    Scratch sc = {0};
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    uint32_t *pad = PyMem_Malloc((maxp + 4) * sizeof(uint32_t));
    PyObject *out = pad ? PyList_New(0) : PyErr_NoMemory();
    if (!out) goto done;
    int rc;
    switch (kind) {
    case PyUnicode_1BYTE_KIND: rc = pieces1(t, (const Py_UCS1 *)data, n, maxp, trig == Py_None, ts, nt, pad, out, &sc); break;
    case PyUnicode_2BYTE_KIND: rc = pieces2(t, (const Py_UCS2 *)data, n, maxp, trig == Py_None, ts, nt, pad, out, &sc); break;
    default: rc = pieces4(t, (const Py_UCS4 *)data, n, maxp, trig == Py_None, ts, nt, pad, out, &sc); break;
    }
    if (rc < 0) Py_CLEAR(out);
done:
    scratch_free(&sc);
    PyMem_Free(pad); PyMem_Free(ts);
    if (out && want_upper) { /* (spans, has an ASCII capital): names.find's _UPPER.search without a regex pass */
        PyObject *pair = Py_BuildValue("(OO)", out, has_upper(text) ? Py_True : Py_False);
        Py_DECREF(out);
        return pair;
    }
    return out;
}

static PyObject *Tagger_labels(TaggerObject *t, PyObject *text) {
    if (!ready(t)) return NULL;
    uint32_t *pad; double *state; int *labels; Py_ssize_t n;
    PyObject *out = NULL;
    if (run(t, text, &pad, &state, &labels, &n) < 0) goto done;
    out = PyUnicode_New(n, 127);
    if (!out) goto done;
    for (Py_ssize_t i = 0; i < n; i++) PyUnicode_WRITE(PyUnicode_1BYTE_KIND, PyUnicode_DATA(out), i, t->lab[labels[i]]);
done:
    PyMem_Free(pad); PyMem_Free(state); PyMem_Free(labels);
    return out;
}

/* state scores and marginals of every label (tests compare them with python-crfsuite's) */
static PyObject *Tagger_marginals(TaggerObject *t, PyObject *text) {
    if (!ready(t)) return NULL;
    uint32_t *pad; double *state; int *labels; Py_ssize_t n;
    PyObject *out = NULL;
    double *marg = NULL;
    int *lab1 = NULL;
    if (run(t, text, &pad, &state, &labels, &n) < 0) goto done;
    out = PyList_New(n);
    if (!out || n == 0) goto done;
    marg = PyMem_Malloc(n * NL * sizeof(double) + 1);
    lab1 = PyMem_Malloc(n * sizeof(int) + 1);
    if (!marg || !lab1) { PyErr_NoMemory(); Py_CLEAR(out); goto done; }
    for (int y = 0; y < NL; y++) {
        for (Py_ssize_t i = 0; i < n; i++) lab1[i] = y;
        if (marginals(t, state, n, lab1, marg + y * n) < 0) { Py_CLEAR(out); goto done; }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *d = PyDict_New();
        if (!d) { Py_CLEAR(out); goto done; }
        PyList_SET_ITEM(out, i, d);
        for (int y = 0; y < NL; y++) {
            char k[2] = {t->lab[y], 0};
            PyObject *v = PyFloat_FromDouble(marg[y * n + i]);
            if (!v || PyDict_SetItemString(d, k, v) < 0) { Py_XDECREF(v); Py_CLEAR(out); goto done; }
            Py_DECREF(v);
        }
    }
done:
    PyMem_Free(pad); PyMem_Free(state); PyMem_Free(labels); PyMem_Free(marg); PyMem_Free(lab1);
    return out;
}

static PyMethodDef Tagger_methods[] = {
    {"tag", (PyCFunction)Tagger_tag, METH_O, "tag(text) -> [(start, end, smallest label marginal)]"},
    {"tag_text", (PyCFunction)Tagger_tag_text, METH_VARARGS,
     "tag_text(text, max_piece, triggers=None, upper=False) -> spans over the sentence pieces of text "
     "(names._pieces); upper=True: (spans, whether the text holds an ASCII capital A-Z)"},
    {"max_gain", (PyCFunction)Tagger_max_gain, METH_O, "max_gain(text) -> largest gain of a non-O run (the skip test)"},
    {"set_skip", (PyCFunction)Tagger_set_skip, METH_O, "set_skip(flag): skip pieces proved all O (default True)"},
    {"labels", (PyCFunction)Tagger_labels, METH_O, "labels(text) -> Viterbi labels as a str of B/I/E/O"},
    {"marginals", (PyCFunction)Tagger_marginals, METH_O, "marginals(text) -> [{label: marginal}] per character"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject TaggerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cnai.corpus._namescan.Tagger",
    .tp_basicsize = sizeof(TaggerObject),
    .tp_dealloc = (destructor)Tagger_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The name CRF's features, Viterbi and marginals (built by cnai.corpus.namemodel._compiled).",
    .tp_methods = Tagger_methods,
    .tp_init = (initproc)Tagger_init,
    .tp_new = PyType_GenericNew,
};

/* pair_starts(text, table) -> [i, ...]: every offset i where text[i] is a "first" character and text[i + 1] a
 * "second" one; table holds a byte per Basic Multilingual Plane code point: bit 0 first, bit 1 second (65536
 * bytes). One load per character and no branch but on a hit: the cheap first pass of names._minority_names. */
#define PAIR_BYTES 65536
static PyObject *pair_starts(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_buffer tb;
    if (!PyArg_ParseTuple(args, "Uy*", &text, &tb)) return NULL;
    PyObject *out = NULL;
    if (tb.len != PAIR_BYTES) {
        PyErr_SetString(PyExc_ValueError, "pair_starts: the table is 65536 bytes (one per BMP character)");
        goto done;
    }
    out = PyList_New(0);
    if (!out) goto done;
    const unsigned char *tab = tb.buf;
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    if (kind == PyUnicode_1BYTE_KIND) goto done; /* Latin-1 only: no Chinese character */
    unsigned prev = 0; /* bit 0: text[i - 1] is a first character */
    for (Py_ssize_t i = 0; i < n; i++) {
        const Py_UCS4 c = kind == PyUnicode_2BYTE_KIND ? ((const Py_UCS2 *)data)[i] : PyUnicode_READ(kind, data, i);
        const unsigned f = c <= 0xFFFF ? tab[c] : 0;
        if (prev & (f >> 1)) {
            PyObject *v = PyLong_FromSsize_t(i - 1);
            if (!v || PyList_Append(out, v) < 0) {
                Py_XDECREF(v);
                Py_CLEAR(out);
                goto done;
            }
            Py_DECREF(v);
        }
        prev = f & 1;
    }
done:
    PyBuffer_Release(&tb);
    return out;
}

static PyMethodDef module_methods[] = {
    {"pair_starts", pair_starts, METH_VARARGS,
     "pair_starts(text, table) -> offsets i with text[i] a first and text[i+1] a second character (table bits 0, 1)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moddef = {
    PyModuleDef_HEAD_INIT, "_namescan",
    "Compiled tagging for cnai.corpus.namemodel (same labels and confidences as the Python path).", -1,
    module_methods,
};

PyMODINIT_FUNC PyInit__namescan(void) {
    if (PyType_Ready(&TaggerType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moddef);
    if (!m) return NULL;
    Py_INCREF(&TaggerType);
    if (PyModule_AddObject(m, "Tagger", (PyObject *)&TaggerType) < 0) {
        Py_DECREF(&TaggerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
