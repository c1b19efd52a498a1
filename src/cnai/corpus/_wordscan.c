/*
 * cnai.corpus._wordscan: the keyword and name-cue pass of the corpus detector in one compiled loop.
 *
 * The pure-Python reference is Detector._scan_words in detect.py (fold the text, run the keyword
 * automaton, map offsets, apply the name-cue rules _name_after/_name_before). This module does the same
 * work in one pass over the str's own buffer (1, 2 or 4 bytes per character), without building a folded
 * copy or a UTF-8 copy:
 *   - folding as cnai.assess.keywords.fold: full-width U+FF01..U+FF5E -> ASCII, U+3000 -> space, ASCII
 *     upper -> lower, other characters by their (one-character) lower-case mapping. The two characters
 *     whose str.lower() depends on more than the character (U+0130, and U+03A3 by final-sigma context)
 *     make scan() return None, and the caller uses the Python path for that text;
 *   - Aho-Corasick over code points, stored as a double-array trie over a dense alphabet of the words'
 *     characters (one table lookup per step), all overlapping matches, reported in (end, word index)
 *     order like the Hyperscan path;
 *   - the whole-word rule for ASCII keywords and the three name-cue rules, on the original text.
 *
 * scan(text) -> None | (events, has_digit_or_at)
 *   events: list of (kind, word index, start, end) in the order the Python path appends findings:
 *     kind 0: word with risk/sensitive values, span of the word
 *     kind 1: person name after a prefix cue (span of the name)
 *     kind 2: person name before a title cue
 *     kind 3: person name before a reporting-verb cue (boundary rule)
 *   has_digit_or_at: the text contains [0-9@] (the token scan can be skipped otherwise).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#define F_ASCII 1   /* whole-word rule applies */
#define F_VALS 2    /* has risk or sensitive-signal values */
#define F_NPRE 4    /* name prefix cue ("姓名") */
#define F_WEAK 8    /* weak prefix cue ("学生"): needs a separator or an end mark */
#define F_NSUF 16   /* title cue after a name ("先生") */
#define F_NVERB 32  /* reporting verb after a name ("表示"), boundary rule */

/* Double-array trie: the child of state s by character code k is t = cell[s].base + k when
   cell[t].check == s. Character codes are dense (1..alphabet size) for the characters that occur in some
   word; code 0 means "in no word", which resets the automaton. */
typedef struct { int32_t base, check; } Cell;

/* A set of code points: bitmap for the BMP, sorted list above it. */
typedef struct { uint8_t bmp[8192]; uint32_t *astral; Py_ssize_t nastral; } CharSet;

/* A set of two-character strings (compound surnames, titles). */
typedef struct { uint32_t *a; uint32_t *b; Py_ssize_t n; } PairSet;

typedef struct {
    PyObject_HEAD
    Cell *cell; Py_ssize_t ncell;
    int32_t *fail, *word, *dict;   /* per state: failure link, word ending here (-1), next word on the chain */
    int32_t *hold;                 /* per state: the hold-back of feed() (see Scanner_feed) */
    uint16_t *code;                /* 65536 entries: character code of a BMP character */
    uint32_t *acode_ch; int32_t *acode; Py_ssize_t nacode;  /* astral characters, sorted */
    Py_ssize_t nstates;
    int32_t *wlen; uint8_t *wflags; Py_ssize_t nwords;
    CharSet sur1, stop, name_end, boundary;
    PairSet sur2, titles;
} Scanner;

/* ------------------------------------------------------------------ small sets */
static int cmp_u32(const void *x, const void *y) {
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

static int charset_init(CharSet *cs, PyObject *str) {
    memset(cs->bmp, 0, sizeof cs->bmp);
    cs->astral = NULL; cs->nastral = 0;
    if (!PyUnicode_Check(str)) { PyErr_SetString(PyExc_TypeError, "character set must be a str"); return -1; }
    Py_ssize_t n = PyUnicode_GET_LENGTH(str);
    int kind = PyUnicode_KIND(str); const void *data = PyUnicode_DATA(str);
    cs->astral = PyMem_Malloc(sizeof(uint32_t) * (n + 1));
    if (!cs->astral) { PyErr_NoMemory(); return -1; }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 65536) cs->bmp[c >> 3] |= (uint8_t)(1u << (c & 7));
        else cs->astral[cs->nastral++] = c;
    }
    qsort(cs->astral, cs->nastral, sizeof(uint32_t), cmp_u32);
    return 0;
}

static inline int charset_has(const CharSet *cs, Py_UCS4 c) {
    if (c < 65536) return (cs->bmp[c >> 3] >> (c & 7)) & 1;
    Py_ssize_t lo = 0, hi = cs->nastral;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (cs->astral[mid] < c) lo = mid + 1; else hi = mid;
    }
    return lo < cs->nastral && cs->astral[lo] == c;
}

static int pairset_init(PairSet *ps, PyObject *seq) {
    ps->a = ps->b = NULL; ps->n = 0;
    PyObject *fast = PySequence_Fast(seq, "pair set must be a sequence of str");
    if (!fast) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    ps->a = PyMem_Malloc(sizeof(uint32_t) * (n + 1));
    ps->b = PyMem_Malloc(sizeof(uint32_t) * (n + 1));
    if (!ps->a || !ps->b) { Py_DECREF(fast); PyErr_NoMemory(); return -1; }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PySequence_Fast_GET_ITEM(fast, i);
        if (!PyUnicode_Check(s)) { Py_DECREF(fast); PyErr_SetString(PyExc_TypeError, "pair must be a str"); return -1; }
        if (PyUnicode_GET_LENGTH(s) != 2) continue;  /* only two-character entries can match text[j:j+2] */
        ps->a[ps->n] = PyUnicode_READ_CHAR(s, 0);
        ps->b[ps->n] = PyUnicode_READ_CHAR(s, 1);
        ps->n++;
    }
    Py_DECREF(fast);
    return 0;
}

static inline int pairset_has(const PairSet *ps, Py_UCS4 a, Py_UCS4 b) {
    for (Py_ssize_t i = 0; i < ps->n; i++)
        if (ps->a[i] == a && ps->b[i] == b) return 1;
    return 0;
}

/* ------------------------------------------------------------------ automaton build */
typedef struct { int32_t code, child; } TmpEdge;
typedef struct { TmpEdge *e; int32_t n, cap; } TmpList;

static int cmp_tmpedge(const void *x, const void *y) {
    int32_t a = ((const TmpEdge *)x)->code, b = ((const TmpEdge *)y)->code;
    return a < b ? -1 : a > b;
}

static inline int32_t char_code(const Scanner *S, Py_UCS4 c) {
    if (c < 65536) return S->code[c];
    Py_ssize_t lo = 0, hi = S->nacode;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (S->acode_ch[mid] < c) lo = mid + 1; else hi = mid;
    }
    return (lo < S->nacode && S->acode_ch[lo] == c) ? S->acode[lo] : 0;
}

static inline int32_t go(const Scanner *S, int32_t st, int32_t k) {
    int32_t t = S->cell[st].base + k;
    return S->cell[t].check == st ? t : -1;
}

/* Free cells of the double array while it is built: a doubly linked list in ascending order, so the
   first-fit search visits free cells only (head 0 is a sentinel: cell 0 is the root and never free). */
typedef struct { int32_t *next, *prev; int32_t tail; } FreeList;

static int grow_cells(Scanner *S, FreeList *fl, Py_ssize_t need) {
    if (need <= S->ncell) return 0;
    Py_ssize_t old = S->ncell, n = old ? old : 1024;
    while (n < need) n *= 2;
    if (n > INT32_MAX / 2) { PyErr_SetString(PyExc_MemoryError, "keyword automaton too large"); return -1; }
    Cell *c = PyMem_Realloc(S->cell, sizeof(Cell) * n);
    if (!c) { PyErr_NoMemory(); return -1; }
    S->cell = c;
    int32_t *nx = PyMem_Realloc(fl->next, sizeof(int32_t) * n);
    if (nx) fl->next = nx;
    int32_t *pv = PyMem_Realloc(fl->prev, sizeof(int32_t) * n);
    if (pv) fl->prev = pv;
    if (!nx || !pv) { PyErr_NoMemory(); return -1; }
    Py_ssize_t first = old ? old : 1;
    if (!old) { c[0].base = 0; c[0].check = 0; fl->next[0] = -1; fl->prev[0] = -1; fl->tail = 0; }
    for (Py_ssize_t i = first; i < n; i++) {
        c[i].base = 0; c[i].check = -1;
        fl->prev[i] = fl->tail; fl->next[i] = -1;
        fl->next[fl->tail] = (int32_t)i;
        fl->tail = (int32_t)i;
    }
    S->ncell = n;
    return 0;
}

static void take_cell(FreeList *fl, int32_t i) {
    int32_t p = fl->prev[i], n = fl->next[i];
    fl->next[p] = n;
    if (n >= 0) fl->prev[n] = p; else fl->tail = p;
}

static int build(Scanner *S, PyObject *words, PyObject *flags) {
    PyObject *fw = PySequence_Fast(words, "words must be a sequence of str");
    if (!fw) return -1;
    PyObject *ff = PySequence_Fast(flags, "flags must be a sequence of int");
    if (!ff) { Py_DECREF(fw); return -1; }
    Py_ssize_t nw = PySequence_Fast_GET_SIZE(fw);
    int rc = -1;
    TmpList *tmp = NULL;            /* trie children, by trie node */
    int32_t *tword = NULL, *pos = NULL, *queue = NULL, *depth = NULL;
    FreeList fl = {NULL, NULL, 0};
    Py_ssize_t cap = 1024, nn = 1;
    if (PySequence_Fast_GET_SIZE(ff) != nw) { PyErr_SetString(PyExc_ValueError, "one flag per word"); goto done; }
    S->nwords = nw;
    S->wlen = PyMem_Malloc(sizeof(int32_t) * (nw + 1));
    S->wflags = PyMem_Malloc(nw + 1);
    S->code = PyMem_Calloc(65536, sizeof(uint16_t));
    S->acode_ch = PyMem_Malloc(sizeof(uint32_t) * 16);
    S->acode = PyMem_Malloc(sizeof(int32_t) * 16);
    tmp = PyMem_Calloc(cap, sizeof(TmpList));
    tword = PyMem_Malloc(sizeof(int32_t) * cap);
    if (!S->wlen || !S->wflags || !S->code || !S->acode_ch || !S->acode || !tmp || !tword) { PyErr_NoMemory(); goto done; }
    tword[0] = -1;
    int32_t ncodes = 0;
    Py_ssize_t acap = 16;
    for (Py_ssize_t w = 0; w < nw; w++) {
        PyObject *s = PySequence_Fast_GET_ITEM(fw, w);
        long wf = PyLong_AsLong(PySequence_Fast_GET_ITEM(ff, w));
        if (wf == -1 && PyErr_Occurred()) goto done;
        if (!PyUnicode_Check(s)) { PyErr_SetString(PyExc_TypeError, "word must be a str"); goto done; }
        Py_ssize_t L = PyUnicode_GET_LENGTH(s);
        if (L == 0 || L > INT32_MAX) { PyErr_SetString(PyExc_ValueError, "empty word"); goto done; }
        S->wlen[w] = (int32_t)L;
        S->wflags[w] = (uint8_t)wf;
        int32_t st = 0;
        for (Py_ssize_t i = 0; i < L; i++) {
            Py_UCS4 c = PyUnicode_READ_CHAR(s, i);
            int32_t k = char_code(S, c);
            if (k == 0) {  /* a new character: next code */
                if (ncodes >= 65535) { PyErr_SetString(PyExc_ValueError, "more than 65535 distinct characters"); goto done; }
                k = ++ncodes;
                if (c < 65536) S->code[c] = (uint16_t)k;
                else {
                    if (S->nacode == acap) {
                        acap *= 2;
                        uint32_t *a1 = PyMem_Realloc(S->acode_ch, sizeof(uint32_t) * acap);
                        if (a1) S->acode_ch = a1;
                        int32_t *a2 = PyMem_Realloc(S->acode, sizeof(int32_t) * acap);
                        if (a2) S->acode = a2;
                        if (!a1 || !a2) { PyErr_NoMemory(); goto done; }
                    }
                    Py_ssize_t j = S->nacode++;  /* insertion keeps the astral table sorted */
                    while (j > 0 && S->acode_ch[j - 1] > c) { S->acode_ch[j] = S->acode_ch[j - 1]; S->acode[j] = S->acode[j - 1]; j--; }
                    S->acode_ch[j] = c; S->acode[j] = k;
                }
            }
            int32_t nx = -1;
            for (int32_t e = 0; e < tmp[st].n; e++) if (tmp[st].e[e].code == k) { nx = tmp[st].e[e].child; break; }
            if (nx < 0) {
                if (nn == cap) {
                    Py_ssize_t ncap = cap * 2;
                    TmpList *nt = PyMem_Realloc(tmp, sizeof(TmpList) * ncap);
                    if (nt) { tmp = nt; memset(tmp + cap, 0, sizeof(TmpList) * (ncap - cap)); }
                    int32_t *nw2 = PyMem_Realloc(tword, sizeof(int32_t) * ncap);
                    if (nw2) tword = nw2;
                    if (!nt || !nw2) { PyErr_NoMemory(); goto done; }
                    cap = ncap;
                }
                nx = (int32_t)nn++;
                tword[nx] = -1;
                TmpList *l = &tmp[st];
                if (l->n == l->cap) {
                    int32_t c2 = l->cap ? l->cap * 2 : 2;
                    TmpEdge *ne = PyMem_Realloc(l->e, sizeof(TmpEdge) * c2);
                    if (!ne) { PyErr_NoMemory(); goto done; }
                    l->e = ne; l->cap = c2;
                }
                l->e[l->n].code = k; l->e[l->n].child = nx; l->n++;
            }
            st = nx;
        }
        if (tword[st] < 0) tword[st] = (int32_t)w;
        else S->wflags[tword[st]] |= (uint8_t)wf;  /* duplicate word: merge its flags */
    }
    /* place the trie in the double array, breadth first; pos[trie node] = state */
    pos = PyMem_Malloc(sizeof(int32_t) * nn);
    queue = PyMem_Malloc(sizeof(int32_t) * nn);
    if (!pos || !queue || grow_cells(S, &fl, 2 * nn + ncodes + 2) < 0) { if (!PyErr_Occurred()) PyErr_NoMemory(); goto done; }
    pos[0] = 0;  /* cell 0 is the root, its own owner, so no child lands on it */
    Py_ssize_t qh = 0, qt = 0, maxstate = 0;
    /* multi: where the last state with several children was placed; such states search on from there,
       so the dense front of the array is not rescanned for each of them (single children fill holes) */
    int32_t multi = 0;
    queue[qt++] = 0;
    while (qh < qt) {
        int32_t u = queue[qh++];
        TmpList *l = &tmp[u];
        if (l->n == 0) continue;
        qsort(l->e, l->n, sizeof(TmpEdge), cmp_tmpedge);
        int32_t c0 = l->e[0].code, p = fl.next[0];
        if (l->n > 1 && multi > 0) {
            int32_t q = multi;
            while (q < S->ncell && S->cell[q].check != -1) q++;
            if (q < S->ncell) p = q;
        }
        Py_ssize_t b;
        for (;;) {  /* first fit over free cells: the first child on p, the others free too */
            if (p < 0) {  /* out of free cells: grow, the new cells are appended to the list */
                int32_t last = fl.tail;
                if (grow_cells(S, &fl, S->ncell * 2) < 0) goto done;
                p = fl.next[last];
                continue;
            }
            b = (Py_ssize_t)p - c0;
            if (b >= 1) {
                if (grow_cells(S, &fl, b + ncodes + 2) < 0) goto done;
                int ok = 1;
                for (int32_t e = 1; e < l->n && ok; e++) ok = S->cell[b + l->e[e].code].check == -1;
                if (ok) break;
            }
            p = fl.next[p];
        }
        if (l->n > 1) multi = p;
        S->cell[pos[u]].base = (int32_t)b;
        for (int32_t e = 0; e < l->n; e++) {
            Py_ssize_t t = b + l->e[e].code;
            S->cell[t].check = pos[u];
            take_cell(&fl, (int32_t)t);
            pos[l->e[e].child] = (int32_t)t;
            if (t > maxstate) maxstate = t;
            queue[qt++] = l->e[e].child;
        }
    }
    /* every base + code must stay inside the array, leaves (base 0) included */
    Py_ssize_t maxbase = 0;
    for (Py_ssize_t i = 0; i <= maxstate; i++) if (S->cell[i].base > maxbase) maxbase = S->cell[i].base;
    if (grow_cells(S, &fl, (maxbase > maxstate ? maxbase : maxstate) + ncodes + 2) < 0) goto done;
    S->nstates = maxstate + 1;
    Py_ssize_t ns = S->ncell;
    S->fail = PyMem_Malloc(sizeof(int32_t) * ns);
    S->word = PyMem_Malloc(sizeof(int32_t) * ns);
    S->dict = PyMem_Malloc(sizeof(int32_t) * ns);
    S->hold = PyMem_Calloc(ns, sizeof(int32_t));
    depth = PyMem_Calloc(ns, sizeof(int32_t));
    if (!S->fail || !S->word || !S->dict || !S->hold || !depth) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t i = 0; i < ns; i++) { S->fail[i] = 0; S->word[i] = -1; S->dict[i] = -1; }
    for (Py_ssize_t i = 0; i < nn; i++) S->word[pos[i]] = tword[i];
    /* failure and dictionary links, breadth first over the trie */
    qh = qt = 0;
    for (int32_t e = 0; e < tmp[0].n; e++) {
        int32_t v = tmp[0].e[e].child, pv = pos[v];
        depth[pv] = 1;
        S->hold[pv] = (tmp[v].n > 0 || (tword[v] >= 0 && (S->wflags[tword[v]] & F_ASCII))) ? 1 : 0;
        queue[qt++] = v;
    }
    while (qh < qt) {
        int32_t u = queue[qh++];
        int32_t pu = pos[u];
        for (int32_t e = 0; e < tmp[u].n; e++) {
            int32_t v = tmp[u].e[e].child, pv = pos[v], k = tmp[u].e[e].code, f = S->fail[pu], t;
            for (;;) {
                t = go(S, f, k);
                if (t >= 0 || f == 0) break;
                f = S->fail[f];
            }
            S->fail[pv] = (t >= 0 && t != pv) ? t : 0;
            int32_t fv = S->fail[pv];
            S->dict[pv] = S->word[fv] >= 0 ? fv : S->dict[fv];
            /* hold: the longest suffix, along the failure chain, that can still grow into a match: a proper
               prefix of some word, or a whole ASCII word (the next character may extend it into a longer
               word, which the whole-word rule would not match). fail links point to shallower states, which
               breadth-first order has done already. */
            depth[pv] = depth[pu] + 1;
            S->hold[pv] = (tmp[v].n > 0 || (tword[v] >= 0 && (S->wflags[tword[v]] & F_ASCII))) ? depth[pv] : S->hold[fv];
            queue[qt++] = v;
        }
    }
    rc = 0;
done:
    if (tmp) {
        for (Py_ssize_t i = 0; i < cap; i++) PyMem_Free(tmp[i].e);
        PyMem_Free(tmp);
    }
    PyMem_Free(tword); PyMem_Free(pos); PyMem_Free(queue); PyMem_Free(depth); PyMem_Free(fl.next); PyMem_Free(fl.prev);
    Py_DECREF(fw); Py_DECREF(ff);
    return rc;
}

/* ------------------------------------------------------------------ scanning */
typedef struct { int32_t end, word; } Hit;
typedef struct { int32_t kind, word, s, e; } Event;

typedef struct { void *p; Py_ssize_t n, cap; size_t size; } Vec;

static int vec_push(Vec *v, const void *item) {
    if (v->n == v->cap) {
        Py_ssize_t c = v->cap ? v->cap * 2 : 64;
        void *np = PyMem_Realloc(v->p, v->size * c);
        if (!np) return -1;
        v->p = np; v->cap = c;
    }
    memcpy((char *)v->p + v->size * v->n, item, v->size);
    v->n++;
    return 0;
}

/* fold as cnai.assess.keywords.fold; returns -1 for a character whose lower-casing is left to Python */
static inline int64_t fold_char(Py_UCS4 c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c >= 0x3400 && c <= 0x9FFF) return c;  /* CJK: no case */
    if (c >= 0xFF01 && c <= 0xFF5E) { c -= 0xFEE0; return (c >= 'A' && c <= 'Z') ? c + 32 : c; }
    if (c == 0x3000) return 0x20;
    /* str.lower() maps U+0130 to two characters (fold then keeps it, per character) and lowers U+03A3 by
       context (final sigma): leave texts with those to Python. Every other character's full lower-case
       mapping is one character, equal to the simple mapping used here. */
    if (c == 0x130 || c == 0x3A3) return -1;
    return Py_UNICODE_TOLOWER(c);
}

static inline int word_char(Py_UCS4 c) {  /* _is_word_char of the folded character */
    int64_t f = fold_char(c);
    if (f < 0 || f >= 0x80) return 0;
    return (f >= '0' && f <= '9') || (f >= 'a' && f <= 'z') || f == '_';
}

static inline int cjk(Py_UCS4 c) { return c >= 0x4E00 && c <= 0x9FFF; }

/* One automaton step: character c (unfolded) at index i of the text. Returns the next state, STEP_PY when
   the fold of c is left to Python, STEP_NOMEM on allocation failure; pushes a hit (end i + 1) for every word
   ending at the new state (its word, then the dictionary-link chain). Shared by scan() and feed(). */
#define STEP_PY (-1)
#define STEP_NOMEM (-2)
static inline __attribute__((always_inline)) int32_t step(const Scanner *S, int32_t st, Py_UCS4 c, Py_ssize_t i, Vec *hits, int *unsorted) {
    int64_t f = fold_char(c);
    if (f < 0) return STEP_PY;
    int32_t k = char_code(S, (Py_UCS4)f);
    if (!k) return 0;  /* a character in no word resets the automaton */
    for (;;) {
        int32_t t = go(S, st, k);
        if (t >= 0) { st = t; break; }
        if (st == 0) break;
        st = S->fail[st];
    }
    if (st) {
        int32_t t = S->word[st] >= 0 ? st : S->dict[st];
        int first = 1;
        while (t >= 0) {
            Hit h = {(int32_t)(i + 1), S->word[t]};
            if (!first) *unsorted = 1;  /* several words end here: order by index afterwards */
            if (vec_push(hits, &h) < 0) return STEP_NOMEM;
            first = 0;
            t = S->dict[t];
        }
    }
    return st;
}

/* The automaton pass over text[0:n] from *st (left at the state after the last character). has_digit, when
   not NULL, is set if a digit or '@' occurs (scan() only). Returns 0, STEP_PY or STEP_NOMEM. One loop per
   string kind so the character read stays a plain load. */
static inline __attribute__((always_inline)) int automaton_pass(const Scanner *S, int kind, const void *data, Py_ssize_t n, int32_t *stp, Vec *hits,
                          int *unsorted, int *has_digit) {
    int32_t st = *stp;
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *d = data;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (has_digit && ((d[i] >= '0' && d[i] <= '9') || d[i] == '@')) *has_digit = 1;
            if ((st = step(S, st, d[i], i, hits, unsorted)) < 0) return st;
        }
    } else if (kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *d = data;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (has_digit && ((d[i] >= '0' && d[i] <= '9') || d[i] == '@')) *has_digit = 1;
            if ((st = step(S, st, d[i], i, hits, unsorted)) < 0) return st;
        }
    } else {
        const Py_UCS4 *d = data;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (has_digit && ((d[i] >= '0' && d[i] <= '9') || d[i] == '@')) *has_digit = 1;
            if ((st = step(S, st, d[i], i, hits, unsorted)) < 0) return st;
        }
    }
    *stp = st;
    return 0;
}

/* insertion sort into (end, word) order: hits come in end order, only same-end groups move */
static void sort_hits(Hit *H, Py_ssize_t n) {
    for (Py_ssize_t a = 1; a < n; a++) {
        Hit x = H[a];
        Py_ssize_t b = a;
        while (b > 0 && (H[b - 1].end > x.end || (H[b - 1].end == x.end && H[b - 1].word > x.word))) { H[b] = H[b - 1]; b--; }
        H[b] = x;
    }
}

#define RD(i) PyUnicode_READ(kind, data, (i))

/* _name_after: surname (+1-2 given-name characters) right after a prefix cue ending at j */
static int name_after(const Scanner *S, int kind, const void *data, Py_ssize_t n, Py_ssize_t j, int weak,
                      Py_ssize_t *ns, Py_ssize_t *ne) {
    int k = 0, sep = 0;
    while (j < n && k < 2) {
        Py_UCS4 c = RD(j);
        if (c == ':' || c == 0xFF1A || c == ' ' || c == '\t') sep = 1;
        else if (c != 0x662F && c != 0x4E3A) break;  /* 是 为 */
        j++; k++;
    }
    if (j >= n) return 0;
    Py_ssize_t sl;
    if (j + 1 < n && pairset_has(&S->sur2, RD(j), RD(j + 1))) sl = 2;
    else if (charset_has(&S->sur1, RD(j))) sl = 1;
    else return 0;
    Py_ssize_t g = j + sl;
    while (g < n && g - (j + sl) < 2 && cjk(RD(g)) && !charset_has(&S->stop, RD(g))) g++;
    if (g == j + sl) return 0;
    if (weak && !sep && !(g >= n || charset_has(&S->name_end, RD(g))
                          || (g + 1 < n && pairset_has(&S->titles, RD(g), RD(g + 1)))))
        return 0;
    *ns = j; *ne = g;
    return 1;
}

/* _name_before: surname + 1-2 given-name characters ending right before the cue at s */
static int name_before(const Scanner *S, int kind, const void *data, Py_ssize_t s, int boundary, Py_ssize_t *ns) {
    for (int glen = 2; glen >= 1; glen--) {
        for (int sl = 2; sl >= 1; sl--) {
            Py_ssize_t st = s - glen - sl;
            if (st < 0) continue;
            int ok = sl == 2 ? pairset_has(&S->sur2, RD(st), RD(st + 1)) : charset_has(&S->sur1, RD(st));
            if (!ok) continue;
            for (Py_ssize_t i = st + sl; i < s; i++) {
                Py_UCS4 c = RD(i);
                if (!cjk(c) || charset_has(&S->stop, c)) { ok = 0; break; }
            }
            if (!ok) continue;
            if (boundary && st > 0 && !charset_has(&S->boundary, RD(st - 1))) continue;
            *ns = st;
            return 1;
        }
    }
    return 0;
}

static PyObject *Scanner_scan(Scanner *S, PyObject *text) {
    if (!PyUnicode_Check(text)) { PyErr_SetString(PyExc_TypeError, "scan() takes a str"); return NULL; }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (n > INT32_MAX) { PyErr_SetString(PyExc_ValueError, "text too long"); return NULL; }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Vec hits = {NULL, 0, 0, sizeof(Hit)};
    Vec evs = {NULL, 0, 0, sizeof(Event)};
    int has_digit = 0, unsorted = 0;
    PyObject *res = NULL;
    int32_t st0 = 0;
    int rc = automaton_pass(S, kind, data, n, &st0, &hits, &unsorted, &has_digit);
    if (rc == STEP_PY) goto fallback;
    if (rc == STEP_NOMEM) goto nomem;
    Hit *H = hits.p;
    if (unsorted) sort_hits(H, hits.n);
    for (Py_ssize_t a = 0; a < hits.n; a++) {
        int32_t w = H[a].word, e = H[a].end, s = e - S->wlen[w];
        uint8_t fl = S->wflags[w];
        if ((fl & F_ASCII) && ((s > 0 && word_char(RD(s - 1))) || (e < n && word_char(RD(e))))) continue;
        Event ev;
        Py_ssize_t ns, ne2;
        if (fl & F_VALS) { ev = (Event){0, w, s, e}; if (vec_push(&evs, &ev) < 0) goto nomem; }
        if ((fl & F_NPRE) && name_after(S, kind, data, n, e, fl & F_WEAK, &ns, &ne2)) {
            ev = (Event){1, w, (int32_t)ns, (int32_t)ne2}; if (vec_push(&evs, &ev) < 0) goto nomem;
        }
        if ((fl & F_NSUF) && name_before(S, kind, data, s, 0, &ns)) {
            ev = (Event){2, w, (int32_t)ns, s}; if (vec_push(&evs, &ev) < 0) goto nomem;
        }
        if ((fl & F_NVERB) && name_before(S, kind, data, s, 1, &ns)) {
            ev = (Event){3, w, (int32_t)ns, s}; if (vec_push(&evs, &ev) < 0) goto nomem;
        }
    }
    PyObject *lst = PyList_New(evs.n);
    if (!lst) goto out;
    Event *E = evs.p;
    for (Py_ssize_t a = 0; a < evs.n; a++) {
        PyObject *tup = Py_BuildValue("(iiii)", E[a].kind, E[a].word, E[a].s, E[a].e);
        if (!tup) { Py_DECREF(lst); goto out; }
        PyList_SET_ITEM(lst, a, tup);
    }
    res = Py_BuildValue("(NO)", lst, has_digit ? Py_True : Py_False);
    goto out;
fallback:
    res = Py_NewRef(Py_None);
    goto out;
nomem:
    PyErr_NoMemory();
out:
    PyMem_Free(hits.p);
    PyMem_Free(evs.p);
    return res;
}

/* feed(text, state) -> None | (state, hold, hits): the automaton pass of scan() resumed from `state` (0 at
   the start of a text) over the next piece of a text, for streams: the returned state carries on into the
   next call, so a word split across pieces is found and each piece costs O(its length).
   hits: (word index, end) for every word ending in this piece, end counted from the piece's start (1..n), in
   (end, word) order; no whole-word rule and no name cues (the caller sees the neighbouring pieces).
   hold: the length of the longest suffix of the text so far that is a proper prefix of some word or a whole
   ASCII-rule word, i.e. what a stream must hold back. None: as scan() (a character left to Python). */
static PyObject *Scanner_feed(Scanner *S, PyObject *const *args, Py_ssize_t nargs) {
    /* METH_FASTCALL: a stream calls this once per delta, so argument parsing is kept minimal */
    if (nargs != 2 || !PyUnicode_Check(args[0])) { PyErr_SetString(PyExc_TypeError, "feed(text: str, state: int)"); return NULL; }
    PyObject *text = args[0];
    long state = PyLong_AsLong(args[1]);
    if (state == -1 && PyErr_Occurred()) return NULL;
    if (state < 0 || state >= S->nstates) { PyErr_SetString(PyExc_ValueError, "state out of range"); return NULL; }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (n > INT32_MAX) { PyErr_SetString(PyExc_ValueError, "text too long"); return NULL; }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Vec hits = {NULL, 0, 0, sizeof(Hit)};
    int unsorted = 0;
    int32_t st = (int32_t)state;
    PyObject *res = NULL, *lst = NULL;
    int rc = automaton_pass(S, kind, data, n, &st, &hits, &unsorted, NULL);
    if (rc == STEP_PY) goto fallback;
    if (rc == STEP_NOMEM) goto nomem;
    Hit *H = hits.p;
    if (unsorted) sort_hits(H, hits.n);
    lst = PyList_New(hits.n);
    if (!lst) goto out;
    for (Py_ssize_t a = 0; a < hits.n; a++) {
        PyObject *tup = Py_BuildValue("(ii)", H[a].word, H[a].end);
        if (!tup) { Py_DECREF(lst); goto out; }
        PyList_SET_ITEM(lst, a, tup);
    }
    res = Py_BuildValue("(iiN)", st, S->hold[st], lst);
    goto out;
fallback:
    res = Py_NewRef(Py_None);
    goto out;
nomem:
    PyErr_NoMemory();
out:
    PyMem_Free(hits.p);
    return res;
}

/* ================================================================== token pass
 * Tokens(provinces, regions, today, plate_provinces, context).scan(text) -> list of findings
 * The identifier token scan of detect.py (Detector._iter_tokens + _scan_token + _classify + the rules of
 * checks.TOKEN_RULES) in one compiled loop; the Python path is the reference and tests/corpus/
 * test_wordscan_tokens.py compares the two on random and adversarial text. Findings are
 * (type, start, end, confidence, reason), in the order the Python path appends them.
 * today: yyyymmdd, the date the Python path gets from date.today() (birth dates after it are invalid).
 */
enum { T_ID, T_USCC, T_MOBILE, T_BANK, T_LANDLINE, T_PLATE, T_PASSPORT, T_PERMIT, T_EMAIL, T_IP, NTYPES };
static const char *TYPE_NAMES[NTYPES] = {"cn_resident_id", "uscc", "cn_mobile", "bank_card", "cn_landline",
                                         "license_plate", "passport", "hk_macao_permit", "email", "ip_address"};
enum { R_ID99, R_ID90, R_ID15, R_USCC99, R_USCC40, R_MOBILE, R_PLATE, R_PASSPORT, R_PERMIT, R_EMAIL, R_IPV4,
       R_UNIONPAY, R_VISA, R_MASTERCARD, R_JCB, R_AMEX, R_IPV6, NREASONS };
static const char *REASONS[NREASONS] = {
    "GB 11643 check digit, birth date and division code valid",
    "GB 11643 check digit and birth date valid; prefecture code not in 2015 table",
    "first-generation 15-digit format (no check digit): division code and birth date valid",
    "GB 32100 check character and GB 11714 organisation-code check valid",
    "GB 32100 check character valid but the embedded GB 11714 organisation-code check fails",
    "11-digit mobile number with a carrier prefix",
    "province abbreviation + plate number format",
    "PRC passport number format (no check digit)",
    "HK/Macao permit number format (no check digit)",
    "e-mail address syntax",
    "dotted IPv4 address, octets <= 255",
    "Luhn check valid, UnionPay prefix", "Luhn check valid, Visa prefix", "Luhn check valid, Mastercard prefix",
    "Luhn check valid, JCB prefix", "Luhn check valid, Amex prefix", "valid IPv6 address",
};

typedef struct { Py_UCS4 *w[32]; Py_ssize_t len[32]; int n; } WordList;

typedef struct {
    PyObject_HEAD
    PyObject *tname[NTYPES], *reason[NREASONS];
    uint8_t prov[100];        /* checks.PROVINCES */
    uint8_t *region;          /* 10000 entries: 4-digit division prefix in the 2015 table */
    long today, ty;
    CharSet plate_prov;
    WordList ctx[NTYPES];     /* lexicon.CONTEXT_WORDS */
} Tokens;

static inline int aln(int c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static inline int dig(int c) { return c >= '0' && c <= '9'; }
static inline int alpha(int c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static inline int upc(int c) { return (c >= 'a' && c <= 'z') ? c - 32 : c; }
static inline int tokch(Py_UCS4 c) {  /* detect._TOKCH */
    return c < 128 && (aln((int)c) || c == '.' || c == '_' || c == '%' || c == '@' || c == ':' || c == '+' || c == '-');
}
static int all_dig(const char *s, Py_ssize_t n) { for (Py_ssize_t i = 0; i < n; i++) if (!dig(s[i])) return 0; return n > 0; }
static long num(const char *s, int n) { long v = 0; for (int i = 0; i < n; i++) v = v * 10 + (s[i] - '0'); return v; }

static int valid_date(const Tokens *T, long y, long m, long d) {  /* checks._valid_date */
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > T->ty || m < 1 || m > 12 || d < 1) return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 && leap)) return 0;
    return y * 10000 + m * 100 + d <= T->today;
}

static inline int prov(const Tokens *T, const char *s) { return dig(s[0]) && dig(s[1]) && T->prov[(s[0] - '0') * 10 + s[1] - '0']; }
static inline int region(const Tokens *T, const char *s) { return all_dig(s, 4) && T->region[num(s, 4)]; }

/* checks.resident_id on an upper-cased candidate: reason index or -1 */
static int c_resident_id(const Tokens *T, const char *s, Py_ssize_t L) {
    static const int W[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char CHK[] = "10X98765432";
    if (L == 18) {
        if (!all_dig(s, 17) || !(dig(s[17]) || s[17] == 'X' || s[17] == 'x')) return -1;
        if (!prov(T, s)) return -1;
        if (!valid_date(T, num(s + 6, 4), num(s + 10, 2), num(s + 12, 2))) return -1;
        int sum = 0;
        for (int i = 0; i < 17; i++) sum += (s[i] - '0') * W[i];
        if (CHK[sum % 11] != upc(s[17])) return -1;
        return region(T, s) ? R_ID99 : R_ID90;
    }
    if (L == 15 && all_dig(s, 15)) {
        if (!region(T, s)) return -1;
        if (!valid_date(T, 1900 + num(s + 6, 2), num(s + 8, 2), num(s + 10, 2))) return -1;
        return R_ID15;
    }
    return -1;
}

static int uscc_val(int c) {  /* position in USCC_ALPHABET, -1 if not allowed */
    static const char A[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    for (int i = 0; i < 31; i++) if (A[i] == c) return i;
    return -1;
}

/* checks.uscc: reason index or -1 (s upper-cased) */
static int c_uscc(const Tokens *T, const char *s, Py_ssize_t L) {
    static const char A[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int OW[8] = {3, 7, 9, 10, 5, 8, 4, 2};
    if (L != 18) return -1;
    for (int i = 0; i < 18; i++) if (uscc_val(s[i]) < 0) return -1;
    if (!strchr("123456789ANY", s[0]) || !all_dig(s + 2, 6) || !prov(T, s + 2)) return -1;
    int total = 0, w = 1;
    for (int i = 0; i < 17; i++) { total += uscc_val(s[i]) * w; w = (w * 3) % 31; }
    if (A[(31 - total % 31) % 31] != s[17]) return -1;
    int sum = 0;
    for (int i = 0; i < 8; i++) { int c = s[8 + i]; sum += (dig(c) ? c - '0' : c - 'A' + 10) * OW[i]; }
    int c = 11 - sum % 11;
    int chk = c == 10 ? 'X' : (c == 11 ? '0' : '0' + c);
    return chk == s[16] ? R_USCC99 : R_USCC40;
}

static int luhn(const char *s, Py_ssize_t n) {
    int total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int d = s[n - 1 - i] - '0';
        if (i % 2) { d *= 2; if (d > 9) d -= 9; }
        total += d;
    }
    return total % 10 == 0;
}

/* checks.bank_card (s all digits): reason index or -1 */
static int c_bank(const Tokens *T, const char *s, Py_ssize_t L) {
    if (L < 13 || L > 19) return -1;
    if (L == 18 && prov(T, s) && valid_date(T, num(s + 6, 4), num(s + 10, 2), num(s + 12, 2))) return -1;  /* id_shaped */
    int r = -1;
    long p2 = num(s, 2), p4 = num(s, 4);
    if (p2 == 62 && L >= 16) r = R_UNIONPAY;
    else if (s[0] == '4' && (L == 13 || L == 16 || L == 19)) r = R_VISA;
    else if (L == 16 && ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))) r = R_MASTERCARD;
    else if (p2 == 35 && L >= 16) r = R_JCB;
    else if (L == 15 && (p2 == 34 || p2 == 37)) r = R_AMEX;
    if (r < 0 || !luhn(s, L)) return -1;
    return r;
}

static int c_mobile(const char *s, Py_ssize_t L) {
    if (L == 13 && s[0] == '8' && s[1] == '6') { s += 2; L -= 2; }
    else if (L == 15 && s[0] == '0' && s[1] == '0' && s[2] == '8' && s[3] == '6') { s += 4; L -= 4; }
    return L == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9';
}

static int plate_letter(int c) { return c >= 'A' && c <= 'Z' && c != 'I' && c != 'O'; }

static int plate_tail(const char *s0, Py_ssize_t L) {  /* checks.plate_tail */
    char s[8];
    if (L != 6 && L != 7) return 0;
    for (Py_ssize_t i = 0; i < L; i++) s[i] = (char)upc(s0[i]);
    if (!(s[0] >= 'A' && s[0] <= 'Z' && s[0] != 'I')) return 0;
    const char *t = s + 1;
    Py_ssize_t n = L - 1, nd = 0;
    for (Py_ssize_t i = 0; i < n; i++) { if (!plate_letter(t[i]) && !dig(t[i])) return 0; nd += dig(t[i]); }
    if (n == 6) return ((t[0] == 'D' || t[0] == 'F') && all_dig(t + 2, 4)) || ((t[5] == 'D' || t[5] == 'F') && all_dig(t, 5));
    return nd >= 3;
}

static inline int dotc(Py_UCS4 c) { return c == 0xB7 || c == 0x2022 || c == ' '; }

typedef struct { int kind; const void *data; Py_ssize_t n; } Text;
#define TX(i) PyUnicode_READ(X->kind, X->data, (i))

static int ctx(const Tokens *T, const Text *X, Py_ssize_t s, int type) {  /* detect._ctx */
    Py_ssize_t lo = s > 12 ? s - 12 : 0, m = s - lo;
    Py_UCS4 win[12];  /* the 12 characters before s, read once */
    for (Py_ssize_t i = 0; i < m; i++) win[i] = TX(lo + i);
    const WordList *wl = &T->ctx[type];
    for (int w = 0; w < wl->n; w++) {
        Py_ssize_t L = wl->len[w];
        const Py_UCS4 *word = wl->w[w];
        for (Py_ssize_t a = 0; a + L <= m; a++) {
            if (win[a] != word[0]) continue;
            Py_ssize_t k = 1;
            while (k < L && win[a + k] == word[k]) k++;
            if (k == L) return 1;
        }
    }
    return 0;
}

static int emit(PyObject *out, const Tokens *T, int type, Py_ssize_t s, Py_ssize_t e, double conf, PyObject *reason) {
    PyObject *t = PyTuple_New(5), *a = PyLong_FromSsize_t(s), *b = PyLong_FromSsize_t(e), *c = PyFloat_FromDouble(conf);
    if (!t || !a || !b || !c) { Py_XDECREF(t); Py_XDECREF(a); Py_XDECREF(b); Py_XDECREF(c); return -1; }
    Py_INCREF(T->tname[type]);
    Py_INCREF(reason);
    PyTuple_SET_ITEM(t, 0, T->tname[type]);
    PyTuple_SET_ITEM(t, 1, a);
    PyTuple_SET_ITEM(t, 2, b);
    PyTuple_SET_ITEM(t, 3, c);
    PyTuple_SET_ITEM(t, 4, reason);
    int rc = PyList_Append(out, t);
    Py_DECREF(t);
    return rc;
}

/* Detector._plate: 1 found, 0 not, -1 error */
static int c_plate(const Tokens *T, const Text *X, Py_ssize_t s, Py_ssize_t e, const char *n, Py_ssize_t L, PyObject *out) {
    Py_ssize_t p = s - 1;
    char tail[16];
    Py_ssize_t tl = 0;
    Py_UCS4 c = TX(p);
    if (dotc(c) && p > 1 && TX(p - 1) < 128 && alpha((int)TX(p - 1))) {
        tail[tl++] = (char)upc((int)TX(p - 1));
        p -= 2;
    } else if (dotc(c) && p > 0) p -= 1;
    if (L > 7) return 0;
    memcpy(tail + tl, n, L);
    tl += L;
    if (charset_has(&T->plate_prov, TX(p)) && plate_tail(tail, tl))
        return emit(out, T, T_PLATE, p, e, 0.9, T->reason[R_PLATE]) < 0 ? -1 : 1;
    return 0;
}

static double with_ctx(const Tokens *T, const Text *X, Py_ssize_t s, int type, double conf, int mode, double a, double cap) {
    if (!mode || !ctx(T, X, s, type)) return conf;
    if (mode == 1) return a;
    double v = conf + a;
    return v < cap ? v : cap;
}

static int match_passport(const char *n, Py_ssize_t L) {  /* ^(?:E\d{8}|E[A-HJ-NP-Z]\d{7}|G\d{8})$ */
    if (L != 9) return 0;
    if ((n[0] == 'E' || n[0] == 'G') && all_dig(n + 1, 8)) return 1;
    return n[0] == 'E' && plate_letter(n[1]) && all_dig(n + 2, 7);
}

static int match_permit(const char *n, Py_ssize_t L) {  /* ^(?:C\d{8}|C[A-HJ-NP-Z]\d{7}|[HM]\d{8}(?:\d{2})?)$ */
    if (L == 9 && n[0] == 'C') return all_dig(n + 1, 8) || (plate_letter(n[1]) && all_dig(n + 2, 7));
    return (L == 9 || L == 11) && (n[0] == 'H' || n[0] == 'M') && all_dig(n + 1, L - 1);
}

/* Detector._classify_norm over checks.TOKEN_RULES (order: see TOKEN_RULE_ORDER): 1 found, 0 not, -1 error */
static int classify_norm(const Tokens *T, const Text *X, Py_ssize_t s, Py_ssize_t e, const char *n, Py_ssize_t L,
                         const char *raw, Py_ssize_t rawlen, PyObject *out) {
    int r;
    if (all_dig(n, L)) {
        if (L == 15 || L == 18) {
            if ((r = c_resident_id(T, n, L)) >= 0) {
                double base = r == R_ID99 ? 0.99 : (r == R_ID90 ? 0.9 : 0.5);
                return emit(out, T, T_ID, s, e, with_ctx(T, X, s, T_ID, base, 2, 0.05, 0.995), T->reason[r]) < 0 ? -1 : 1;
            }
        }
        if (L == 18 && (r = c_uscc(T, n, L)) >= 0)
            return emit(out, T, T_USCC, s, e, r == R_USCC99 ? 0.99 : 0.4, T->reason[r]) < 0 ? -1 : 1;
        if ((L == 11 || L == 13 || L == 15) && c_mobile(n, L))
            return emit(out, T, T_MOBILE, s, e, with_ctx(T, X, s, T_MOBILE, 0.9, 1, 0.97, 0), T->reason[R_MOBILE]) < 0 ? -1 : 1;
        if (L >= 13 && L <= 19 && (r = c_bank(T, n, L)) >= 0)
            return emit(out, T, T_BANK, s, e, with_ctx(T, X, s, T_BANK, 0.85, 1, 0.97, 0), T->reason[r]) < 0 ? -1 : 1;
        if (L >= 10 && L <= 12 && n[0] == '0') {
            Py_ssize_t area = (n[1] == '1' || n[1] == '2') ? 3 : 4, sub = L - area;
            if ((sub == 7 || sub == 8) && n[area] != '0' && n[area] != '1') {
                int sep_ok = rawlen > L && (raw[area] == '-' || raw[area] == ' ');
                double conf = with_ctx(T, X, s, T_LANDLINE, sep_ok ? 0.9 : 0.6, 2, 0.07, 0.97);
                char msg[64];
                snprintf(msg, sizeof msg, "area code %.*s + %d-digit number", (int)area, n, (int)sub);
                PyObject *why = PyUnicode_FromString(msg);
                if (!why) return -1;
                int rc = emit(out, T, T_LANDLINE, s, e, conf, why);
                Py_DECREF(why);
                return rc < 0 ? -1 : 1;
            }
        }
        if (L == 5 && s > 2 && dotc(TX(s - 1))) return c_plate(T, X, s, e, n, L, out);
        return 0;
    }
    char up[32];
    if (L == 18) {
        for (int i = 0; i < 18; i++) up[i] = (char)upc(n[i]);
        if ((r = c_resident_id(T, up, L)) >= 0) {
            double base = r == R_ID99 ? 0.99 : (r == R_ID90 ? 0.9 : 0.5);
            return emit(out, T, T_ID, s, e, base, T->reason[r]) < 0 ? -1 : 1;
        }
        if ((r = c_uscc(T, up, L)) >= 0)
            return emit(out, T, T_USCC, s, e, with_ctx(T, X, s, T_USCC, r == R_USCC99 ? 0.99 : 0.4, 2, 0.02, 0.995),
                        T->reason[r]) < 0 ? -1 : 1;
    }
    if ((L == 9 || L == 11) && n[0] >= 'A' && n[0] <= 'Z') {
        if (match_passport(n, L))
            return emit(out, T, T_PASSPORT, s, e, with_ctx(T, X, s, T_PASSPORT, 0.6, 1, 0.95, 0), T->reason[R_PASSPORT]) < 0 ? -1 : 1;
        if (match_permit(n, L))
            return emit(out, T, T_PERMIT, s, e, with_ctx(T, X, s, T_PERMIT, 0.6, 1, 0.95, 0), T->reason[R_PERMIT]) < 0 ? -1 : 1;
    }
    if (L >= 5 && L <= 7 && s > 0) return c_plate(T, X, s, e, n, L, out);
    return 0;
}

/* Detector._classify: the whole piece, else its parts split at the first separator kind present */
static int classify(const Tokens *T, const Text *X, Py_ssize_t s, const char *piece, Py_ssize_t L, PyObject *out) {
    char nbuf[256];
    char *norm = L < (Py_ssize_t)sizeof nbuf ? nbuf : PyMem_Malloc(L + 1);
    if (!norm) { PyErr_NoMemory(); return -1; }
    Py_ssize_t nl = 0;
    for (Py_ssize_t i = 0; i < L; i++) if (piece[i] != ' ' && piece[i] != '-') norm[nl++] = piece[i];
    int rc = classify_norm(T, X, s, s + L, norm, nl, piece, L, out);
    if (norm != nbuf) PyMem_Free(norm);
    if (rc) return rc;
    const char seps[2] = {' ', '-'};
    for (int k = 0; k < 2; k++) {
        if (!memchr(piece, seps[k], L)) continue;
        int found = 0;
        Py_ssize_t a = 0;
        while (a <= L) {
            Py_ssize_t b = a;
            while (b < L && piece[b] != seps[k]) b++;
            if (b - a >= 5) {
                int r = classify(T, X, s + a, piece + a, b - a, out);
                if (r < 0) return -1;
                found |= r;
            }
            a = b + 1;
        }
        return found;
    }
    return 0;
}

static inline int overlaps(const Py_ssize_t *taken, int nt, Py_ssize_t s, Py_ssize_t e) {
    for (int i = 0; i < nt; i++) if (taken[2 * i] < e && s < taken[2 * i + 1]) return 1;
    return 0;
}

static inline int local_ch(int c) { return aln(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'; }

static inline int hexd(int c) { return dig(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* ipaddress.IPv6Address(s) accepts s (s over [0-9A-Fa-f:.], no '%' or '/'): Python 3.11's rules, check by
   check (parts split at ':', an IPv4 suffix in the last part, at most one '::', 1-4 hex digits a hextet) */
static int ipv6_valid(const char *s, Py_ssize_t L) {
    Py_ssize_t st[16], ln[16];
    int n = 0;
    Py_ssize_t a = 0;
    for (Py_ssize_t i = 0; i <= L; i++) {
        if (i == L || s[i] == ':') {
            if (n == 16) return 0;  /* more than 9 parts either way */
            st[n] = a; ln[n] = i - a; n++;
            a = i + 1;
        }
    }
    if (n < 3) return 0;
    int v4 = memchr(s + st[n - 1], '.', ln[n - 1]) != NULL;
    if (v4) {  /* IPv4Address(last part): 4 decimal octets, no leading zeros, <= 255 */
        const char *q = s + st[n - 1];
        Py_ssize_t m = ln[n - 1], b = 0;
        int oct = 0;
        for (Py_ssize_t i = 0; i <= m; i++) {
            if (i < m && q[i] != '.') continue;
            Py_ssize_t w = i - b;
            if (w < 1 || w > 3 || !all_dig(q + b, w) || (w > 1 && q[b] == '0') || num(q + b, (int)w) > 255) return 0;
            oct++;
            b = i + 1;
        }
        if (oct != 4) return 0;
    }
    int total = v4 ? n + 1 : n;  /* the IPv4 suffix stands for two hextets */
    if (total > 9) return 0;
    int skip = -1;
    for (int i = 1; i < total - 1; i++) {
        int empty = (v4 && i >= n - 1) ? 0 : ln[i] == 0;
        if (empty) { if (skip >= 0) return 0; skip = i; }
    }
    int first_empty = ln[0] == 0, last_empty = v4 ? 0 : ln[n - 1] == 0;
    int hi, lo;
    if (skip >= 0) {
        hi = skip; lo = total - skip - 1;
        if (first_empty && --hi) return 0;
        if (last_empty && --lo) return 0;
        if (8 - (hi + lo) < 1) return 0;
    } else {
        if (total != 8 || first_empty || last_empty) return 0;
        hi = total; lo = 0;
    }
    for (int i = 0; i < total; i++) {  /* the parsed hextets: the first hi and the last lo */
        if (!(i < hi || i >= total - lo)) continue;
        if (v4 && i >= n - 1) continue;  /* the two hextets made from the IPv4 suffix are valid */
        if (ln[i] < 1 || ln[i] > 4) return 0;
        for (Py_ssize_t k = 0; k < ln[i]; k++) if (!hexd(s[st[i] + k])) return 0;
    }
    return 1;
}

/* Detector._scan_token over tok = text[base:base+L] (ASCII), without the IPv6 part: 0 ok, -1 error */
static int scan_token(const Tokens *T, const Text *X, Py_ssize_t base, const char *t, Py_ssize_t L, PyObject *out) {
    Py_ssize_t tbuf[64], *taken = tbuf;
    int nt = 0, cap = 32, rc = -1;
    Py_ssize_t *dres = NULL;
    int has_at = memchr(t, '@', L) != NULL, has_dot = memchr(t, '.', L) != NULL;
#define TAKE(a, b) do {                                                                           \
        if (nt == cap) {                                                                          \
            Py_ssize_t *nb = PyMem_Malloc(sizeof(Py_ssize_t) * 4 * cap);                          \
            if (!nb) { PyErr_NoMemory(); goto done; }                                             \
            memcpy(nb, taken, sizeof(Py_ssize_t) * 2 * nt);                                       \
            if (taken != tbuf) PyMem_Free(taken);                                                 \
            taken = nb; cap *= 2;                                                                 \
        }                                                                                         \
        taken[2 * nt] = (a); taken[2 * nt + 1] = (b); nt++;                                       \
    } while (0)
    if (has_at && has_dot) {
        /* _EMAIL.finditer(tok). dres[p] for a '.' at p: end of the longest-priority match of
           (\.label)*\.[A-Za-z]{2,} from p (a label is a full [A-Za-z0-9-] run ending alnum), or -1 */
        dres = PyMem_Malloc(sizeof(Py_ssize_t) * (L + 1));
        if (!dres) { PyErr_NoMemory(); goto done; }
        for (Py_ssize_t p = L; p >= 0; p--) {
            dres[p] = -1;
            if (p >= L || t[p] != '.') continue;
            if (p + 1 < L && aln(t[p + 1])) {
                Py_ssize_t R = p + 2;
                while (R < L && (aln(t[R]) || t[R] == '-')) R++;
                if (aln(t[R - 1]) && R < L && dres[R] >= 0) { dres[p] = dres[R]; continue; }
            }
            Py_ssize_t q = p + 1;
            while (q < L && alpha(t[q])) q++;
            if (q - p - 1 >= 2) dres[p] = q;
        }
        Py_ssize_t p = 0;
        while (p < L) {
            if (!aln(t[p])) { p++; continue; }
            Py_ssize_t k = p + 1;
            while (k < L && local_ch(t[k])) k++;
            Py_ssize_t end = -1, d = k + 1;
            if (k < L && t[k] == '@' && d < L && aln(t[d])) {
                Py_ssize_t R = d + 1;
                while (R < L && (aln(t[R]) || t[R] == '-')) R++;
                if (aln(t[R - 1]) && R < L) end = dres[R];
            }
            if (end < 0) { p = k + 1; continue; }  /* every start in p..k reaches the same '@' (or none) */
            if (emit(out, T, T_EMAIL, base + p, base + end, 0.95, T->reason[R_EMAIL]) < 0) goto done;
            TAKE(p, end);
            p = end;
        }
    }
    if (has_dot) {  /* _IPV4.finditer(tok) */
        Py_ssize_t p = 0;
        while (p < L) {
            if (!dig(t[p]) || (p > 0 && (dig(t[p - 1]) || t[p - 1] == '.'))) { p++; continue; }
            Py_ssize_t a = p, b = p;
            int ok = 1;
            for (int k = 0; k < 4 && ok; k++) {
                b = a;
                while (b < L && dig(t[b])) b++;
                Py_ssize_t w = b - a;
                ok = (w == 1) || (w == 2 && t[a] != '0')
                     || (w == 3 && (t[a] == '1' || (t[a] == '2' && (t[a + 1] < '5' || (t[a + 1] == '5' && t[a + 2] <= '5')))));
                if (ok && k < 3) { ok = b < L && t[b] == '.'; a = b + 1; }
            }
            if (ok) ok = !(b < L && dig(t[b])) && !(b + 1 < L && t[b] == '.' && dig(t[b + 1]));
            if (!ok) { p++; continue; }
            if (!overlaps(taken, nt, p, b)) {
                Py_ssize_t s = base + p;
                if (emit(out, T, T_IP, s, base + b, ctx(T, X, s, T_IP) ? 0.9 : 0.75, T->reason[R_IPV4]) < 0) goto done;
                TAKE(p, b);
            }
            p = b;
        }
    }
    Py_ssize_t ncolon = 0;
    for (Py_ssize_t i = 0; i < L; i++) ncolon += t[i] == ':';
    if (ncolon >= 2) {
        /* _IPV6.finditer(tok): [hex:]*:[hex:]*:[hex:.]* = from p, a run of [hex:] with two or more ':', its
           last ':' at c, then the longest run of [hex:.] after c; candidate stripped as in the Python path */
        Py_ssize_t p = 0;
        while (p < L) {
            Py_ssize_t r = p, last = -1, ncol = 0;
            while (r < L && (hexd(t[r]) || t[r] == ':')) { if (t[r] == ':') { ncol++; last = r; } r++; }
            if (ncol < 2) { p = r + 1; continue; }  /* every later start in the run has fewer colons */
            Py_ssize_t e = last + 1;
            while (e < L && (hexd(t[e]) || t[e] == ':' || t[e] == '.')) e++;
            Py_ssize_t cs = p, ce = e;
            if (e - p >= 3 && t[p] == ':' && t[p + 1] == ':' && t[p + 2] == ':') {  /* strip(":.") */
                while (cs < ce && (t[cs] == ':' || t[cs] == '.')) cs++;
                while (ce > cs && (t[ce - 1] == ':' || t[ce - 1] == '.')) ce--;
            } else {
                while (ce > cs && t[ce - 1] == '.') ce--;  /* rstrip(".") */
            }
            if (ce - cs >= 6 && !overlaps(taken, nt, p, e) && ipv6_valid(t + cs, ce - cs)) {
                if (emit(out, T, T_IP, base + cs, base + ce, 0.85, T->reason[R_IPV6]) < 0) goto done;
                TAKE(p, e);
            }
            p = e;
        }
    }
    {  /* _PIECE.finditer(tok) */
        Py_ssize_t p = 0;
        while (p < L) {
            if (!aln(t[p])) { p++; continue; }
            Py_ssize_t q = p + 1;
            for (;;) {
                while (q < L && aln(t[q])) q++;
                if (q + 1 < L && (t[q] == '-' || t[q] == ' ') && aln(t[q + 1])) q++;
                else break;
            }
            if (!overlaps(taken, nt, p, q) && classify(T, X, base + p, t + p, q - p, out) < 0) goto done;
            p = q;
        }
    }
    rc = 0;
done:
#undef TAKE
    if (taken != tbuf) PyMem_Free(taken);
    PyMem_Free(dres);
    return rc;
}

static PyObject *Tokens_scan(Tokens *T, PyObject *text) {
    if (!T->region) { PyErr_SetString(PyExc_RuntimeError, "Tokens is not initialised"); return NULL; }
    if (!PyUnicode_Check(text)) { PyErr_SetString(PyExc_TypeError, "scan() takes a str"); return NULL; }
    Text XX = {PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text)}, *X = &XX;
    Py_ssize_t n = X->n, last = 0, i = 0;
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    char sbuf[512], *buf = sbuf;
    Py_ssize_t bcap = sizeof sbuf;
    while (i < n) {
        /* the next run of [0-9@] (detect._DIGIT_RUN): a typed loop per string kind */
#define SKIP(TYPE) { const TYPE *d = (const TYPE *)X->data; while (i < n && !((d[i] >= '0' && d[i] <= '9') || d[i] == '@')) i++; }
        if (X->kind == PyUnicode_1BYTE_KIND) SKIP(Py_UCS1)
        else if (X->kind == PyUnicode_2BYTE_KIND) SKIP(Py_UCS2)
        else SKIP(Py_UCS4)
#undef SKIP
        if (i >= n) break;
        Py_ssize_t ms = i, me = i + 1;
        while (me < n && ((TX(me) >= '0' && TX(me) <= '9') || TX(me) == '@')) me++;
        i = me;
        if (ms < last) continue;
        /* widen back to the token's start (Detector._iter_tokens) */
        Py_ssize_t j = ms;
        while (j > last && (tokch(TX(j - 1)) || (TX(j - 1) == ' ' && j >= 2 && Py_UNICODE_ISDIGIT(TX(j - 2))
                                                  && Py_UNICODE_ISDIGIT(TX(j)))))
            j--;
        /* _TOKEN.search(text, j, me + 4096): the first start p in j..ms (a later one is skipped anyway) */
        Py_ssize_t E = me + 4096 < n ? me + 4096 : n, ts = -1, te = -1;
        for (Py_ssize_t p = j; p <= ms && ts < 0; p++) {
            Py_UCS4 f = TX(p);
            if (!(f == '+' || (f < 128 && aln((int)f)))) continue;
            if (p > 0 && TX(p - 1) < 128 && aln((int)TX(p - 1))) continue;
            Py_ssize_t q = p + 1;
            while (q < E) {
                Py_UCS4 b = TX(q);
                if (tokch(b)) q++;
                else if (b == ' ' && dig((int)TX(q - 1)) && q + 1 < E && TX(q + 1) < 128 && dig((int)TX(q + 1))) q++;
                else break;
            }
            if (q - p - 1 >= 4) { ts = p; te = q; }
        }
        if (ts < 0) { last = me; continue; }
        last = te;
        Py_ssize_t L = te - ts;
        if (L > bcap) {
            char *nb = PyMem_Malloc(L);
            if (!nb) { PyErr_NoMemory(); goto fail; }
            if (buf != sbuf) PyMem_Free(buf);
            buf = nb; bcap = L;
        }
        for (Py_ssize_t k = 0; k < L; k++) buf[k] = (char)TX(ts + k);
        if (scan_token(T, X, ts, buf, L, out) < 0) goto fail;
    }
    if (buf != sbuf) PyMem_Free(buf);
    return out;
fail:
    if (buf != sbuf) PyMem_Free(buf);
    Py_DECREF(out);
    return NULL;
}

static void Tokens_dealloc(Tokens *T) {
    for (int i = 0; i < NTYPES; i++) Py_XDECREF(T->tname[i]);
    for (int i = 0; i < NREASONS; i++) Py_XDECREF(T->reason[i]);
    PyMem_Free(T->region);
    PyMem_Free(T->plate_prov.astral);
    for (int i = 0; i < NTYPES; i++) for (int w = 0; w < T->ctx[i].n; w++) PyMem_Free(T->ctx[i].w[w]);
    Py_TYPE(T)->tp_free((PyObject *)T);
}

static int Tokens_init(Tokens *T, PyObject *args, PyObject *kw) {
    static char *names[] = {"provinces", "regions", "today", "plate_provinces", "context", NULL};
    PyObject *provs, *regions, *plates, *context;
    long today;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOlUO!", names, &provs, &regions, &today, &plates, &PyDict_Type, &context))
        return -1;
    if (T->region) { PyErr_SetString(PyExc_RuntimeError, "Tokens is already initialised"); return -1; }
    T->today = today; T->ty = today / 10000;
    T->region = PyMem_Calloc(10000, 1);
    if (!T->region) { PyErr_NoMemory(); return -1; }
    for (int i = 0; i < NTYPES; i++) if (!(T->tname[i] = PyUnicode_InternFromString(TYPE_NAMES[i]))) return -1;
    for (int i = 0; i < NREASONS; i++) if (!(T->reason[i] = PyUnicode_FromString(REASONS[i]))) return -1;
    PyObject *sets[2] = {provs, regions};
    for (int k = 0; k < 2; k++) {
        PyObject *it = PyObject_GetIter(sets[k]), *item;
        if (!it) return -1;
        while ((item = PyIter_Next(it))) {
            const char *s = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : NULL;
            size_t want = k == 0 ? 2 : 4;
            if (s && strlen(s) == want && all_dig(s, (Py_ssize_t)want)) {
                if (k == 0) T->prov[num(s, 2)] = 1; else T->region[num(s, 4)] = 1;
            }
            Py_DECREF(item);
        }
        Py_DECREF(it);
        if (PyErr_Occurred()) return -1;
    }
    if (charset_init(&T->plate_prov, plates)) return -1;
    for (int i = 0; i < NTYPES; i++) {
        PyObject *words = PyDict_GetItemString(context, TYPE_NAMES[i]);
        if (!words) continue;
        PyObject *fw = PySequence_Fast(words, "context words must be a sequence of str");
        if (!fw) return -1;
        Py_ssize_t nw = PySequence_Fast_GET_SIZE(fw);
        for (Py_ssize_t w = 0; w < nw && T->ctx[i].n < 32; w++) {
            PyObject *s = PySequence_Fast_GET_ITEM(fw, w);
            if (!PyUnicode_Check(s)) { Py_DECREF(fw); PyErr_SetString(PyExc_TypeError, "context word must be a str"); return -1; }
            Py_UCS4 *u = PyUnicode_AsUCS4Copy(s);
            if (!u) { Py_DECREF(fw); return -1; }
            T->ctx[i].w[T->ctx[i].n] = u;
            T->ctx[i].len[T->ctx[i].n++] = PyUnicode_GET_LENGTH(s);
        }
        if (nw > 32) { Py_DECREF(fw); PyErr_SetString(PyExc_ValueError, "at most 32 context words per type"); return -1; }
        Py_DECREF(fw);
    }
    return 0;
}

static PyMethodDef Tokens_methods[] = {
    {"scan", (PyCFunction)Tokens_scan, METH_O, "scan(text) -> list of findings (type, start, end, confidence, reason); see the source"},
    {NULL, NULL, 0, NULL},
};

/* the slots every type of this module fills the same way (C = the struct and the prefix of its functions) */
#define WORDSCAN_TYPE(C, doc)                                                                     \
    PyVarObject_HEAD_INIT(NULL, 0)                                                                \
    .tp_name = "cnai.corpus._wordscan." #C, .tp_basicsize = sizeof(C), .tp_flags = Py_TPFLAGS_DEFAULT, \
    .tp_doc = doc, .tp_new = PyType_GenericNew, .tp_init = (initproc)C##_init,                    \
    .tp_dealloc = (destructor)C##_dealloc, .tp_methods = C##_methods

static PyTypeObject TokensType = {
    WORDSCAN_TYPE(Tokens, "Identifier token scan + check-digit validation of the corpus detector (see the source)."),
};

/* ------------------------------------------------------------------ type */
static void Scanner_dealloc(Scanner *S) {
    PyMem_Free(S->cell); PyMem_Free(S->fail); PyMem_Free(S->word); PyMem_Free(S->dict); PyMem_Free(S->code);
    PyMem_Free(S->hold);
    PyMem_Free(S->acode_ch); PyMem_Free(S->acode);
    PyMem_Free(S->wlen); PyMem_Free(S->wflags);
    CharSet *cs[] = {&S->sur1, &S->stop, &S->name_end, &S->boundary};
    for (int i = 0; i < 4; i++) PyMem_Free(cs[i]->astral);
    PyMem_Free(S->sur2.a); PyMem_Free(S->sur2.b); PyMem_Free(S->titles.a); PyMem_Free(S->titles.b);
    Py_TYPE(S)->tp_free((PyObject *)S);
}

static int Scanner_init(Scanner *S, PyObject *args, PyObject *kw) {
    static char *names[] = {"words", "flags", "surnames1", "surnames2", "name_stop", "name_end", "boundary",
                            "titles", NULL};
    PyObject *words, *flags, *s1, *s2, *stop, *nend, *bnd, *titles;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOUOUUUO", names, &words, &flags, &s1, &s2, &stop, &nend,
                                     &bnd, &titles))
        return -1;
    if (S->cell) { PyErr_SetString(PyExc_RuntimeError, "Scanner is already initialised"); return -1; }
    if (charset_init(&S->sur1, s1) || charset_init(&S->stop, stop) || charset_init(&S->name_end, nend)
        || charset_init(&S->boundary, bnd) || pairset_init(&S->sur2, s2) || pairset_init(&S->titles, titles))
        return -1;
    return build(S, words, flags);
}

static PyMethodDef Scanner_methods[] = {
    {"scan", (PyCFunction)Scanner_scan, METH_O,
     "scan(text) -> None | (events, has_digit_or_at); see the module docstring"},
    {"feed", (PyCFunction)(void (*)(void))Scanner_feed, METH_FASTCALL,
     "feed(text, state) -> None | (state, hold, hits): the automaton resumed over the next piece of a stream"},
    {NULL, NULL, 0, NULL},
};

static PyObject *Scanner_nodes(Scanner *S, void *closure) { return PyLong_FromSsize_t(S->nstates); }

static PyGetSetDef Scanner_getset[] = {
    {"nodes", (getter)Scanner_nodes, NULL, "size of the automaton's double array (states + free cells)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ScannerType = {
    WORDSCAN_TYPE(Scanner, "Keyword + name-cue scanner (see module docstring)."),
    .tp_getset = Scanner_getset,
};

/* dedupe_sorted(findings) -> list: the findings without the later ones of each run with equal
   (type, start, end); the list is sorted by (start, end, type), so such runs are neighbours (detect._dedupe) */
static PyObject *dedupe_sorted(PyObject *mod, PyObject *lst) {
    if (!PyList_Check(lst)) { PyErr_SetString(PyExc_TypeError, "dedupe_sorted() takes a list"); return NULL; }
    Py_ssize_t n = PyList_GET_SIZE(lst);
    PyObject *out = PyList_New(0), *prev = NULL;
    if (!out) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *f = PyList_GET_ITEM(lst, i);
        if (!PyTuple_Check(f) || PyTuple_GET_SIZE(f) < 3) { Py_DECREF(out); PyErr_SetString(PyExc_TypeError, "finding must be a tuple"); return NULL; }
        int same = prev != NULL;
        for (int k = 1; same && k < 4; k++) {
            int j = k % 3;  /* start, end, type */
            int r = PyObject_RichCompareBool(PyTuple_GET_ITEM(f, j), PyTuple_GET_ITEM(prev, j), Py_EQ);
            if (r < 0) { Py_DECREF(out); return NULL; }
            same = r;
        }
        if (!same) {
            if (PyList_Append(out, f) < 0) { Py_DECREF(out); return NULL; }
            prev = f;
        }
    }
    return out;
}

static PyMethodDef module_methods[] = {
    {"dedupe_sorted", (PyCFunction)dedupe_sorted, METH_O,
     "dedupe_sorted(findings) -> list without repeated (type, start, end) neighbours"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moddef = {
    PyModuleDef_HEAD_INIT, "_wordscan",
    "Compiled keyword and name-cue pass of cnai.corpus.detect (see the source header).", -1, module_methods,
};

PyMODINIT_FUNC PyInit__wordscan(void) {
    if (PyType_Ready(&ScannerType) < 0 || PyType_Ready(&TokensType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moddef);
    if (!m) return NULL;
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType); Py_DECREF(m); return NULL;
    }
    Py_INCREF(&TokensType);
    if (PyModule_AddObject(m, "Tokens", (PyObject *)&TokensType) < 0) {
        Py_DECREF(&TokensType); Py_DECREF(m); return NULL;
    }
    /* the checks.TOKEN_RULES entries (type, all digits) this pass implements, in order */
    PyObject *order = Py_BuildValue("((sO)(sO)(sO)(sO)(sO)(sO)(sO)(sO)(sO)(sO)(sO))",
        "cn_resident_id", Py_True, "uscc", Py_True, "cn_mobile", Py_True, "bank_card", Py_True,
        "cn_landline", Py_True, "license_plate", Py_True, "cn_resident_id", Py_False, "uscc", Py_False,
        "passport", Py_False, "hk_macao_permit", Py_False, "license_plate", Py_False);
    if (!order || PyModule_AddObject(m, "TOKEN_RULE_ORDER", order) < 0) { Py_XDECREF(order); Py_DECREF(m); return NULL; }
    PyModule_AddIntConstant(m, "F_ASCII", F_ASCII);
    PyModule_AddIntConstant(m, "F_VALS", F_VALS);
    PyModule_AddIntConstant(m, "F_NPRE", F_NPRE);
    PyModule_AddIntConstant(m, "F_WEAK", F_WEAK);
    PyModule_AddIntConstant(m, "F_NSUF", F_NSUF);
    PyModule_AddIntConstant(m, "F_NVERB", F_NVERB);
    return m;
}
