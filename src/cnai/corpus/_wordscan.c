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
    int32_t *tword = NULL, *pos = NULL, *queue = NULL;
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
    if (!S->fail || !S->word || !S->dict) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t i = 0; i < ns; i++) { S->fail[i] = 0; S->word[i] = -1; S->dict[i] = -1; }
    for (Py_ssize_t i = 0; i < nn; i++) S->word[pos[i]] = tword[i];
    /* failure and dictionary links, breadth first over the trie */
    qh = qt = 0;
    for (int32_t e = 0; e < tmp[0].n; e++) queue[qt++] = tmp[0].e[e].child;
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
            queue[qt++] = v;
        }
    }
    rc = 0;
done:
    if (tmp) {
        for (Py_ssize_t i = 0; i < cap; i++) PyMem_Free(tmp[i].e);
        PyMem_Free(tmp);
    }
    PyMem_Free(tword); PyMem_Free(pos); PyMem_Free(queue); PyMem_Free(fl.next); PyMem_Free(fl.prev);
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
    /* the automaton pass, one copy of the loop per string kind (1, 2 or 4 bytes per character) */
#define SCAN_LOOP(T)                                                                              \
    {                                                                                             \
        const T *d = (const T *)data;                                                             \
        int32_t st = 0;                                                                           \
        for (Py_ssize_t i = 0; i < n; i++) {                                                      \
            Py_UCS4 c = d[i];                                                                     \
            if ((c >= '0' && c <= '9') || c == '@') has_digit = 1;                                \
            int64_t f = fold_char(c);                                                             \
            if (f < 0) goto fallback;                                                             \
            int32_t k = char_code(S, (Py_UCS4)f);                                                 \
            if (!k) { st = 0; continue; }                                                         \
            for (;;) {                                                                            \
                int32_t t = go(S, st, k);                                                         \
                if (t >= 0) { st = t; break; }                                                    \
                if (st == 0) break;                                                               \
                st = S->fail[st];                                                                 \
            }                                                                                     \
            if (st) {                                                                             \
                int32_t t = S->word[st] >= 0 ? st : S->dict[st];                                  \
                int first = 1;                                                                    \
                while (t >= 0) {                                                                  \
                    Hit h = {(int32_t)(i + 1), S->word[t]};                                       \
                    if (!first) unsorted = 1; /* several words end here: order by index below */ \
                    if (vec_push(&hits, &h) < 0) goto nomem;                                      \
                    first = 0;                                                                    \
                    t = S->dict[t];                                                               \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
    }
    if (kind == PyUnicode_1BYTE_KIND) SCAN_LOOP(Py_UCS1)
    else if (kind == PyUnicode_2BYTE_KIND) SCAN_LOOP(Py_UCS2)
    else SCAN_LOOP(Py_UCS4)
#undef SCAN_LOOP
    Hit *H = hits.p;
    if (unsorted) {  /* insertion sort: hits are already in end order, only same-end groups move */
        for (Py_ssize_t a = 1; a < hits.n; a++) {
            Hit x = H[a];
            Py_ssize_t b = a;
            while (b > 0 && (H[b - 1].end > x.end || (H[b - 1].end == x.end && H[b - 1].word > x.word))) { H[b] = H[b - 1]; b--; }
            H[b] = x;
        }
    }
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

/* ------------------------------------------------------------------ type */
static void Scanner_dealloc(Scanner *S) {
    PyMem_Free(S->cell); PyMem_Free(S->fail); PyMem_Free(S->word); PyMem_Free(S->dict); PyMem_Free(S->code);
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
    {NULL, NULL, 0, NULL},
};

static PyObject *Scanner_nodes(Scanner *S, void *closure) { return PyLong_FromSsize_t(S->nstates); }

static PyGetSetDef Scanner_getset[] = {
    {"nodes", (getter)Scanner_nodes, NULL, "size of the automaton's double array (states + free cells)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cnai.corpus._wordscan.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Keyword + name-cue scanner (see module docstring).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_methods = Scanner_methods,
    .tp_getset = Scanner_getset,
};

static struct PyModuleDef moddef = {
    PyModuleDef_HEAD_INIT, "_wordscan",
    "Compiled keyword and name-cue pass of cnai.corpus.detect (see the source header).", -1, NULL,
};

PyMODINIT_FUNC PyInit__wordscan(void) {
    if (PyType_Ready(&ScannerType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moddef);
    if (!m) return NULL;
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType); Py_DECREF(m); return NULL;
    }
    PyModule_AddIntConstant(m, "F_ASCII", F_ASCII);
    PyModule_AddIntConstant(m, "F_VALS", F_VALS);
    PyModule_AddIntConstant(m, "F_NPRE", F_NPRE);
    PyModule_AddIntConstant(m, "F_WEAK", F_WEAK);
    PyModule_AddIntConstant(m, "F_NSUF", F_NSUF);
    PyModule_AddIntConstant(m, "F_NVERB", F_NVERB);
    return m;
}
