/*
 * vigil.features._kernels: the per-byte loops of the feature extractors, compiled, the
 * string hash and hash table behind the threat-intel indexes (vigil.intel._strings), and
 * the walk of boosted trees that scores the domain and IP models (vigil.runtime.trees).
 *
 * Why C: these loops walk every byte of a batch once and keep per-row state (a 256-bin
 * histogram, the buckets a row has already hit). numpy has to express them as whole-batch
 * passes with large temporaries (a histogram of n * 256 cells, a padded arena sorted line
 * by line, np.add.at scatters), which cost 5-20x the single pass. Each function here is a
 * drop-in for a numpy implementation that stays in the package as the fallback and the
 * reference: the tests check both give the same results, bit for bit where the order of
 * floating-point additions is the same (it is everywhere except the wide part's sums,
 * which agree to 1e-12). See vigil/features/_accel.py for how they are chosen.
 *
 * Only the buffer protocol is used (no numpy C API), so the module builds with nothing
 * but the Python headers. The Python wrappers pass C-contiguous arrays of the right dtype;
 * every function still checks sizes and offsets so that a bad call raises instead of
 * reading or writing out of bounds. Loops run without the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------ */
/* argument checks                                                                      */

static int check_buffer(Py_buffer *view, Py_ssize_t itemsize, const char *name)
{
    if (view->len % itemsize != 0) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes is not a whole number of %zd-byte items",
                     name, view->len, itemsize);
        return -1;
    }
    return 0;
}

/* A row-offsets buffer: int64, starting at 0 or more, never decreasing, ending within the
 * data. Sets *offsets_out and *rows (the number of rows) or raises. */
static int row_offsets(Py_buffer *offsets, const Py_buffer *data, const int64_t **offsets_out,
                       Py_ssize_t *rows)
{
    if (check_buffer(offsets, 8, "offsets")) {
        return -1;
    }
    const int64_t *off = (const int64_t *)offsets->buf;
    Py_ssize_t count = offsets->len / 8;
    if (count < 1) {
        PyErr_SetString(PyExc_ValueError, "offsets: need at least one offset");
        return -1;
    }
    if (off[0] < 0) {
        PyErr_SetString(PyExc_ValueError, "offsets: must not be negative");
        return -1;
    }
    for (Py_ssize_t i = 1; i < count; i++) {
        if (off[i] < off[i - 1]) {
            PyErr_SetString(PyExc_ValueError, "offsets: must not decrease");
            return -1;
        }
    }
    if (off[count - 1] > data->len) {
        PyErr_SetString(PyExc_ValueError, "offsets: run past the end of the data");
        return -1;
    }
    *offsets_out = off;
    *rows = count - 1;
    return 0;
}

/* log2 of a table size that must be a power of two from 2**1 to 2**max_bits; -1 if not. */
static int power_of_two_bits(Py_ssize_t size, int max_bits)
{
    for (int bits = 1; bits <= max_bits; bits++) {
        if (((Py_ssize_t)1 << bits) == size) {
            return bits;
        }
    }
    return -1;
}

/* line[b] += block[b]: a row's local block of buckets onto its matrix row. */
static void add_block(float *line, const float *block, Py_ssize_t count)
{
    for (Py_ssize_t b = 0; b < count; b++) {
        line[b] += block[b];
    }
}

static void release_buffers(Py_buffer *const views[], size_t count)
{
    for (size_t i = 0; i < count; i++) {
        PyBuffer_Release(views[i]);
    }
}

/* Releases every buffer a function got from PyArg_ParseTuple (unfilled ones are no-ops). */
#define RELEASE_ALL(...)                                                                     \
    release_buffers((Py_buffer *const[]){__VA_ARGS__},                                     \
                    sizeof((Py_buffer *const[]){__VA_ARGS__}) / sizeof(Py_buffer *))

/* The exact code of a k-byte window (k <= 4), most significant byte first; a fifth byte
 * is folded in as code4 * fifth + byte (mod 2**32). Matches vigil.features._ngrams. */
static inline uint32_t window_code(const uint8_t *p, int k, uint32_t fifth)
{
    uint32_t code = 0;
    int exact = k < 4 ? k : 4;
    for (int j = 0; j < exact; j++) {
        code = (code << 8) | p[j];
    }
    if (k == 5) {
        code = code * fifth + p[4];
    }
    return code;
}

/* ------------------------------------------------------------------------------------ */
/* wide_sums(data, offsets, weights, max_bytes, multipliers, fifth) -> (sums, counts)     */
/*                                                                                      */
/* PowerShell's wide part: per row (cut to max_bytes), the distinct buckets of its 3-, 4-  */
/* and 5-byte windows, their weights summed (float64) and counted. Buckets are the top    */
/* bits of code * multiplier, the padding bucket 2**bits - 1 moved to the one before.     */

static PyObject *wide_sums(PyObject *self, PyObject *args)
{
    Py_buffer data = {0}, offsets = {0}, weights = {0}, sums = {0}, counts = {0};
    Py_ssize_t max_bytes;
    unsigned int m3, m4, m5, fifth;
    PyObject *result = NULL;
    uint32_t *stamp = NULL;

    if (!PyArg_ParseTuple(args, "y*y*y*w*w*nIIII", &data, &offsets, &weights, &sums, &counts,
                          &max_bytes, &m3, &m4, &m5, &fifth)) {
        return NULL;
    }
    if (check_buffer(&weights, 4, "weights") ||
        check_buffer(&sums, 8, "sums") || check_buffer(&counts, 8, "counts")) {
        goto done;
    }
    Py_ssize_t n_weights = weights.len / 4;
    const int64_t *off;
    Py_ssize_t n;
    if (row_offsets(&offsets, &data, &off, &n)) {
        goto done;
    }
    if (sums.len / 8 != n || counts.len / 8 != n) {
        PyErr_SetString(PyExc_ValueError, "sums and counts must hold one value per row");
        goto done;
    }
    int bits = power_of_two_bits(n_weights, 24);
    if (bits < 0) {
        PyErr_SetString(PyExc_ValueError, "weights must number a power of two, 2**1 to 2**24");
        goto done;
    }
    stamp = (uint32_t *)calloc((size_t)n_weights, sizeof(uint32_t));
    if (stamp == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    {
        const uint8_t *bytes = (const uint8_t *)data.buf;
        const float *w = (const float *)weights.buf;
        double *out_sums = (double *)sums.buf;
        double *out_counts = (double *)counts.buf;
        const uint32_t multiplier[6] = {0, 0, 0, m3, m4, m5};
        const uint32_t shift = 32 - (uint32_t)bits;
        const uint32_t top = ((uint32_t)1 << bits) - 2;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < n; r++) {
            const uint8_t *row = bytes + off[r];
            int64_t length = off[r + 1] - off[r];
            if (length > max_bytes) {
                length = max_bytes;
            }
            /* Stamps are row + 1; after 2**32 - 1 rows they would wrap: start over. */
            uint32_t mark = (uint32_t)((r % 0xFFFFFFFEu) + 1);
            if (mark == 1 && r > 0) {
                memset(stamp, 0, (size_t)n_weights * sizeof(uint32_t));
            }
            double total = 0.0;
            int64_t distinct = 0;
            for (int k = 3; k <= 5; k++) {
                /* Rolling: the window's first min(k, 4) bytes as window_code reads them;
                 * the same codes in the same order (so the same float sums). */
                const int exact = k < 4 ? k : 4;
                const uint32_t mask = exact == 4 ? 0xFFFFFFFFu : ((uint32_t)1 << (8 * exact)) - 1;
                uint32_t head = 0;
                for (int j = 0; j < exact - 1 && j < length; j++) {
                    head = (head << 8) | row[j];
                }
                for (int64_t i = 0; i + k <= length; i++) {
                    head = ((head << 8) | row[i + exact - 1]) & mask;
                    uint32_t code = k == 5 ? head * fifth + row[i + 4] : head;
                    uint32_t bucket = (code * multiplier[k]) >> shift;
                    if (bucket > top) {
                        bucket = top;
                    }
                    /* Branch-free: whether a bucket is new to the row is a coin flip. */
                    uint32_t fresh = stamp[bucket] != mark;
                    stamp[bucket] = mark;
                    total += fresh ? (double)w[bucket] : 0.0;
                    distinct += fresh;
                }
            }
            out_sums[r] = total;
            out_counts[r] = (double)distinct;
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    free(stamp);
    RELEASE_ALL(&data, &offsets, &weights, &sums, &counts);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* add_signed_windows(values, width, column, data, offsets, bits, sizes, multipliers)     */
/*                                                                                      */
/* PowerShell's character n-gram columns: every k-byte window inside a row (k in sizes,   */
/* each with its multiplier) adds +-1/sqrt(row length) (float32) to values[row, column +  */
/* top bits of its hash]; the next bit picks the sign. A row's updates go to a small      */
/* local block first (it stays in L1; the matrix row is 10 KiB and its cache lines would  */
/* otherwise be fetched one update at a time), then onto the matrix. For any one cell the */
/* updates land in the order np.add.at applies them (sizes in turn, windows in byte       */
/* order), and the block starts at 0.0, so the sums are identical.                        */

static PyObject *add_signed_windows(PyObject *self, PyObject *args)
{
    Py_buffer values = {0}, data = {0}, offsets = {0}, sizes = {0}, multipliers = {0};
    Py_ssize_t width, column;
    int bits;
    PyObject *result = NULL;
    float *block = NULL;

    if (!PyArg_ParseTuple(args, "w*nny*y*iy*y*", &values, &width, &column, &data, &offsets,
                          &bits, &sizes, &multipliers)) {
        return NULL;
    }
    if (check_buffer(&values, 4, "values") ||
        check_buffer(&multipliers, 4, "multipliers")) {
        goto done;
    }
    const uint8_t *ks = (const uint8_t *)sizes.buf;
    const uint32_t *mult = (const uint32_t *)multipliers.buf;
    if (bits < 1 || bits > 24 || sizes.len < 1 || multipliers.len / 4 != sizes.len) {
        PyErr_SetString(PyExc_ValueError, "need bits 1 to 24 and one multiplier per size");
        goto done;
    }
    for (Py_ssize_t s = 0; s < sizes.len; s++) {
        if (ks[s] < 1 || ks[s] > 4) {
            PyErr_SetString(PyExc_ValueError, "window sizes must be 1 to 4");
            goto done;
        }
    }
    const int64_t *off;
    Py_ssize_t n;
    if (row_offsets(&offsets, &data, &off, &n)) {
        goto done;
    }
    Py_ssize_t n_buckets = (Py_ssize_t)1 << bits;
    if (width < 1 || values.len / 4 != n * width || column < 0 || column + n_buckets > width) {
        PyErr_SetString(PyExc_ValueError,
                        "values must be rows x width with the bucket block inside each row");
        goto done;
    }
    block = (float *)malloc((size_t)n_buckets * sizeof(float));
    if (block == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    {
        float *out = (float *)values.buf;
        const uint8_t *bytes = (const uint8_t *)data.buf;
        const uint32_t shift = 32 - (uint32_t)bits;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < n; r++) {
            const uint8_t *row = bytes + off[r];
            int64_t length = off[r + 1] - off[r];
            float scale = (float)(1.0 / sqrt((double)(length > 1 ? length : 1)));
            const float signed_scale[2] = {scale, -scale}; /* indexed: no branch to mispredict */
            int touched = 0;
            memset(block, 0, (size_t)n_buckets * sizeof(float));
            for (Py_ssize_t s = 0; s < sizes.len; s++) {
                const int k = ks[s];
                const uint32_t mask = k == 4 ? 0xFFFFFFFFu : ((uint32_t)1 << (8 * k)) - 1;
                uint32_t code = 0; /* rolling: the last k bytes, most significant first */
                for (int64_t i = 0; i < length; i++) {
                    code = (code << 8) | row[i];
                    if (i + 1 >= k) {
                        uint32_t h = (code & mask) * mult[s];
                        block[h >> shift] += signed_scale[(h >> (shift - 1)) & 1u];
                        touched = 1;
                    }
                }
            }
            if (touched) {
                add_block(out + r * width + column, block, n_buckets);
            }
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    free(block);
    RELEASE_ALL(&values, &data, &offsets, &sizes, &multipliers);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* byte_stats(data, offsets, class_of_byte, entropy, classes, n_classes)                  */
/*                                                                                      */
/* Per row: the Shannon entropy of its bytes (bits) and how many of its bytes fall in     */
/* each class (class_of_byte: 256 uint8 class ids below n_classes).                       */

static PyObject *byte_stats(PyObject *self, PyObject *args)
{
    Py_buffer data = {0}, offsets = {0}, class_of = {0}, entropy = {0}, classes = {0};
    Py_ssize_t n_classes;
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*y*y*w*w*n", &data, &offsets, &class_of, &entropy, &classes,
                          &n_classes)) {
        return NULL;
    }
    if (check_buffer(&entropy, 8, "entropy") ||
        check_buffer(&classes, 8, "classes")) {
        goto done;
    }
    const int64_t *off;
    Py_ssize_t n;
    if (row_offsets(&offsets, &data, &off, &n)) {
        goto done;
    }
    const uint8_t *class_ids = (const uint8_t *)class_of.buf;
    if (class_of.len != 256 || n_classes < 1 || entropy.len / 8 != n ||
        classes.len / 8 != n * n_classes) {
        PyErr_SetString(PyExc_ValueError,
                        "need 256 class ids, one entropy per row and n_classes counts per row");
        goto done;
    }
    for (int b = 0; b < 256; b++) {
        if (class_ids[b] >= n_classes) {
            PyErr_SetString(PyExc_ValueError, "a class id is not below n_classes");
            goto done;
        }
    }
    {
        const uint8_t *bytes = (const uint8_t *)data.buf;
        double *out_entropy = (double *)entropy.buf;
        double *out_classes = (double *)classes.buf;
        int64_t histogram[256];
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < n; r++) {
            int64_t length = off[r + 1] - off[r];
            const uint8_t *row = bytes + off[r];
            double *row_classes = out_classes + r * n_classes;
            memset(histogram, 0, sizeof(histogram));
            for (int64_t i = 0; i < length; i++) {
                histogram[row[i]]++;
            }
            for (Py_ssize_t c = 0; c < n_classes; c++) {
                row_classes[c] = 0.0;
            }
            double c_log_c = 0.0;
            for (int b = 0; b < 256; b++) {
                if (histogram[b] > 0) {
                    double count = (double)histogram[b];
                    c_log_c += count * log2(count);
                    row_classes[class_ids[b]] += count;
                }
            }
            double safe = length > 1 ? (double)length : 1.0;
            out_entropy[r] = length > 0 ? log2(safe) - c_log_c / safe : 0.0;
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    RELEASE_ALL(&data, &offsets, &class_of, &entropy, &classes);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* framed_window_sums(data, offsets, valid, weights, max_bytes, multipliers, totals,      */
/*                    windows)                                                          */
/*                                                                                      */
/* The domain names' n-gram logit: each valid row cut to max_bytes and framed as          */
/* 0x02 row 0x03; its 1- to 4-byte windows hashed (top bits of code * multiplier, the     */
/* padding bucket moved to the one before), their weights summed in float64 (every        */
/* window counts, repeats too) and the windows counted. Invalid rows: 0 and 0.            */

static PyObject *framed_window_sums(PyObject *self, PyObject *args)
{
    Py_buffer data = {0}, offsets = {0}, valid = {0}, weights = {0}, totals = {0}, windows = {0};
    Py_ssize_t max_bytes;
    unsigned int m1, m2, m3, m4;
    PyObject *result = NULL;
    uint8_t *framed = NULL;

    if (!PyArg_ParseTuple(args, "y*y*y*y*nIIIIw*w*", &data, &offsets, &valid, &weights,
                          &max_bytes, &m1, &m2, &m3, &m4, &totals, &windows)) {
        return NULL;
    }
    if (check_buffer(&weights, 4, "weights") ||
        check_buffer(&totals, 8, "totals") || check_buffer(&windows, 8, "windows")) {
        goto done;
    }
    const int64_t *off;
    Py_ssize_t n;
    if (row_offsets(&offsets, &data, &off, &n)) {
        goto done;
    }
    Py_ssize_t n_weights = weights.len / 4;
    int bits = power_of_two_bits(n_weights, 30);
    if (bits < 0) {
        PyErr_SetString(PyExc_ValueError, "weights must number a power of two");
        goto done;
    }
    if (valid.len != n || totals.len / 8 != n || windows.len / 8 != n || max_bytes < 0) {
        PyErr_SetString(PyExc_ValueError,
                        "valid, totals and windows must hold one value per row");
        goto done;
    }
    framed = (uint8_t *)malloc((size_t)max_bytes + 2);
    if (framed == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    {
        const uint8_t *bytes = (const uint8_t *)data.buf;
        const uint8_t *is_valid = (const uint8_t *)valid.buf;
        const float *w = (const float *)weights.buf;
        double *out_totals = (double *)totals.buf;
        double *out_windows = (double *)windows.buf;
        const uint32_t multiplier[5] = {0, m1, m2, m3, m4};
        const uint32_t shift = 32 - (uint32_t)bits;
        const uint32_t top = ((uint32_t)1 << bits) - 2;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < n; r++) {
            out_totals[r] = 0.0;
            out_windows[r] = 0.0;
            if (!is_valid[r]) {
                continue;
            }
            int64_t length = off[r + 1] - off[r];
            if (length > max_bytes) {
                length = max_bytes;
            }
            framed[0] = 0x02;
            memcpy(framed + 1, bytes + off[r], (size_t)length);
            framed[length + 1] = 0x03;
            int64_t framed_length = length + 2;
            double total = 0.0;
            int64_t count = 0;
            for (int k = 1; k <= 4; k++) {
                for (int64_t i = 0; i + k <= framed_length; i++) {
                    uint32_t bucket = (window_code(framed + i, k, 0) * multiplier[k]) >> shift;
                    if (bucket > top) {
                        bucket = top;
                    }
                    total += (double)w[bucket];
                    count++;
                }
            }
            out_totals[r] = total;
            out_windows[r] = (double)count;
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    free(framed);
    RELEASE_ALL(&data, &offsets, &valid, &weights, &totals, &windows);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* token_ngrams(data, offsets, token_byte, values, width, column, buckets,                */
/*              per_row, longest, total_length, base64_bytes)                           */
/*                                                                                      */
/* PowerShell's word tokens: a row split at every run of bytes token_byte does not mark, */
/* as Arrow's ascii_split_whitespace splits (a row that starts or ends with a separator   */
/* has an empty first or last token; an empty row is one empty token). Per row: how many,*/
/* the longest, their total length, and the bytes of tokens that look like base64 (at     */
/* least 20 bytes, all [a-z0-9]). Each token hashes to the first 8 bytes of its           */
/* BLAKE2b-64 digest (little-endian), as hashlib.blake2b(token, digest_size=8) gives;     */
/* consecutive tokens make a bigram fmix64(h1 * 31 + h2). Every unigram, then every       */
/* bigram, adds +-1/sqrt(tokens in the row) to values[row, column + hash mod buckets],    */
/* negative when the hash's top bit is set: per cell the order the numpy version adds in. */
/* Digests are computed once per distinct token of the batch (a small hash table).        */

static const uint64_t blake2b_iv[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
    0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
    0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

static const uint8_t blake2b_sigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

static inline uint64_t rotr64(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

static inline uint64_t load64_le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

#define BLAKE2B_G(a, b, c, d, x, y)                                                          \
    do {                                                                                     \
        v[a] = v[a] + v[b] + (x);                                                            \
        v[d] = rotr64(v[d] ^ v[a], 32);                                                      \
        v[c] = v[c] + v[d];                                                                  \
        v[b] = rotr64(v[b] ^ v[c], 24);                                                      \
        v[a] = v[a] + v[b] + (y);                                                            \
        v[d] = rotr64(v[d] ^ v[a], 16);                                                      \
        v[c] = v[c] + v[d];                                                                  \
        v[b] = rotr64(v[b] ^ v[c], 63);                                                      \
    } while (0)

static void blake2b_compress(uint64_t h[8], const uint8_t block[128], uint64_t counter,
                             int last)
{
    uint64_t v[16], m[16];
    for (int i = 0; i < 16; i++) {
        m[i] = load64_le(block + 8 * i);
    }
    for (int i = 0; i < 8; i++) {
        v[i] = h[i];
        v[i + 8] = blake2b_iv[i];
    }
    v[12] ^= counter; /* the high word of the 128-bit counter stays 0: tokens are short */
    if (last) {
        v[14] = ~v[14];
    }
    for (int r = 0; r < 12; r++) {
        const uint8_t *s = blake2b_sigma[r];
        BLAKE2B_G(0, 4, 8, 12, m[s[0]], m[s[1]]);
        BLAKE2B_G(1, 5, 9, 13, m[s[2]], m[s[3]]);
        BLAKE2B_G(2, 6, 10, 14, m[s[4]], m[s[5]]);
        BLAKE2B_G(3, 7, 11, 15, m[s[6]], m[s[7]]);
        BLAKE2B_G(0, 5, 10, 15, m[s[8]], m[s[9]]);
        BLAKE2B_G(1, 6, 11, 12, m[s[10]], m[s[11]]);
        BLAKE2B_G(2, 7, 8, 13, m[s[12]], m[s[13]]);
        BLAKE2B_G(3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for (int i = 0; i < 8; i++) {
        h[i] ^= v[i] ^ v[i + 8];
    }
}

/* BLAKE2b with an 8-byte digest, no key (RFC 7693): the digest's bytes as a
 * little-endian word, which is the first state word. */
static uint64_t blake2b_64(const uint8_t *data, size_t length)
{
    uint64_t h[8];
    uint8_t block[128];
    memcpy(h, blake2b_iv, sizeof(h));
    h[0] ^= 0x01010000ULL ^ 8ULL; /* depth 1, fanout 1, no key, 8-byte digest */
    size_t done = 0;
    while (length - done > 128) {
        blake2b_compress(h, data + done, (uint64_t)(done + 128), 0);
        done += 128;
    }
    memset(block, 0, sizeof(block));
    memcpy(block, data + done, length - done);
    blake2b_compress(h, block, (uint64_t)length, 1);
    return h[0];
}

static inline uint64_t fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return h;
}

/* The batch's distinct tokens and their digests: open addressing on FNV-1a. */
typedef struct {
    const uint8_t *bytes;
    uint64_t key;    /* FNV-1a of the bytes; 0 marks an empty slot (keys are made odd) */
    uint64_t digest; /* blake2b_64 of the bytes */
    int64_t length;
} token_slot;

typedef struct {
    token_slot *slots;
    size_t mask, used;
} token_table;

static int token_table_init(token_table *table, size_t capacity)
{
    table->slots = (token_slot *)calloc(capacity, sizeof(token_slot));
    table->mask = capacity - 1;
    table->used = 0;
    return table->slots == NULL ? -1 : 0;
}

static token_slot *token_table_find(token_table *table, const uint8_t *bytes, int64_t length,
                                    uint64_t key)
{
    size_t i = (size_t)(key >> 7) & table->mask;
    for (;;) {
        token_slot *slot = &table->slots[i];
        if (slot->key == 0) {
            return slot;
        }
        if (slot->key == key && slot->length == length &&
            memcmp(slot->bytes, bytes, (size_t)length) == 0) {
            return slot;
        }
        i = (i + 1) & table->mask;
    }
}

static int token_table_grow(token_table *table)
{
    token_table bigger;
    if (token_table_init(&bigger, (table->mask + 1) * 2)) {
        return -1;
    }
    for (size_t i = 0; i <= table->mask; i++) {
        token_slot *old = &table->slots[i];
        if (old->key != 0) {
            *token_table_find(&bigger, old->bytes, old->length, old->key) = *old;
            bigger.used++;
        }
    }
    free(table->slots);
    *table = bigger;
    return 0;
}

/* The digest of one token, computed the first time the batch shows it; 0 on no memory. */
static int token_digest(token_table *table, const uint8_t *bytes, int64_t length,
                        uint64_t *digest)
{
    uint64_t key = 0xcbf29ce484222325ULL;
    for (int64_t i = 0; i < length; i++) {
        key = (key ^ bytes[i]) * 0x100000001b3ULL;
    }
    key |= 1;
    token_slot *slot = token_table_find(table, bytes, length, key);
    if (slot->key == 0) {
        if (2 * (table->used + 1) > table->mask + 1) {
            if (token_table_grow(table)) {
                return -1;
            }
            slot = token_table_find(table, bytes, length, key);
        }
        slot->bytes = bytes;
        slot->length = length;
        slot->key = key;
        slot->digest = blake2b_64(bytes, (size_t)length);
        table->used++;
    }
    *digest = slot->digest;
    return 0;
}

static PyObject *token_ngrams(PyObject *self, PyObject *args)
{
    Py_buffer data = {0}, offsets = {0}, token_byte = {0}, values = {0};
    Py_buffer per_row = {0}, longest = {0}, total_length = {0}, base64_bytes = {0};
    Py_ssize_t width, column, buckets;
    PyObject *result = NULL;
    token_table table = {0};
    float *block = NULL;
    uint64_t *row_hashes = NULL;
    int failed = 0;

    if (!PyArg_ParseTuple(args, "y*y*y*w*nnnw*w*w*w*", &data, &offsets, &token_byte, &values,
                          &width, &column, &buckets, &per_row, &longest, &total_length,
                          &base64_bytes)) {
        return NULL;
    }
    if (check_buffer(&values, 4, "values") ||
        check_buffer(&per_row, 8, "per_row") || check_buffer(&longest, 8, "longest") ||
        check_buffer(&total_length, 8, "total_length") ||
        check_buffer(&base64_bytes, 8, "base64_bytes")) {
        goto done;
    }
    const int64_t *off;
    Py_ssize_t n;
    if (row_offsets(&offsets, &data, &off, &n)) {
        goto done;
    }
    if (token_byte.len != 256 || buckets < 1 || width < 1 || values.len / 4 != n * width ||
        column < 0 || column + buckets > width || per_row.len / 8 != n ||
        longest.len / 8 != n || total_length.len / 8 != n || base64_bytes.len / 8 != n) {
        PyErr_SetString(PyExc_ValueError,
                        "need 256 token flags, values of rows x width holding the bucket "
                        "block, and one statistic per row");
        goto done;
    }
    Py_ssize_t longest_row = 0;
    for (Py_ssize_t r = 0; r < n; r++) {
        if (off[r + 1] - off[r] > longest_row) {
            longest_row = off[r + 1] - off[r];
        }
    }
    block = (float *)malloc((size_t)buckets * sizeof(float));
    row_hashes = (uint64_t *)malloc(((size_t)longest_row / 2 + 2) * sizeof(uint64_t));
    if (block == NULL || row_hashes == NULL || token_table_init(&table, 4096)) {
        PyErr_NoMemory();
        goto done;
    }
    {
        const uint8_t *bytes = (const uint8_t *)data.buf;
        const uint8_t *is_token = (const uint8_t *)token_byte.buf;
        float *out = (float *)values.buf;
        double *out_count = (double *)per_row.buf, *out_longest = (double *)longest.buf;
        double *out_total = (double *)total_length.buf, *out_b64 = (double *)base64_bytes.buf;
        const int power_of_two = (buckets & (buckets - 1)) == 0;
        const uint64_t n_buckets = (uint64_t)buckets;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < n && !failed; r++) {
            const uint8_t *row = bytes + off[r];
            int64_t length = off[r + 1] - off[r];
            int64_t count = 0, longest_token = 0, total = 0, base64_total = 0;
            int64_t i = 0;
            for (;;) {
                /* One piece: the token bytes up to the next separator, maybe none. */
                int64_t start = i;
                int plain = 1; /* only [a-z0-9] so far */
                while (i < length && is_token[row[i]]) {
                    uint8_t b = row[i];
                    plain &= (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9');
                    i++;
                }
                int64_t token_length = i - start;
                if (token_digest(&table, row + start, token_length, &row_hashes[count])) {
                    failed = 1;
                    break;
                }
                count++;
                total += token_length;
                longest_token = token_length > longest_token ? token_length : longest_token;
                base64_total += (plain && token_length >= 20) ? token_length : 0;
                if (i == length) {
                    break;
                }
                while (i < length && !is_token[row[i]]) { /* a run of separators */
                    i++;
                }
            }
            out_count[r] = (double)count;
            out_longest[r] = (double)longest_token;
            out_total[r] = (double)total;
            out_b64[r] = (double)base64_total;
            if (count == 0) {
                continue;
            }
            float scale = (float)(1.0 / sqrt((double)count));
            const float signed_scale[2] = {scale, -scale};
            memset(block, 0, (size_t)buckets * sizeof(float));
            for (int64_t t = 0; t < 2 * count - 1; t++) {
                /* the unigrams in order, then the bigrams in order */
                uint64_t gram = t < count ? row_hashes[t]
                                          : fmix64(row_hashes[t - count] * 31ULL +
                                                   row_hashes[t - count + 1]);
                uint64_t bucket = power_of_two ? (gram & (n_buckets - 1)) : (gram % n_buckets);
                block[bucket] += signed_scale[gram >> 63];
            }
            add_block(out + r * width + column, block, buckets);
        }
        Py_END_ALLOW_THREADS
    }
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    free(table.slots);
    free(block);
    free(row_hashes);
    RELEASE_ALL(&data, &offsets, &token_byte, &values, &per_row, &longest, &total_length,
                &base64_bytes);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* indicator_counts(data, offsets, starts, ends, indicators, word, identifier, counts)   */
/*                                                                                      */
/* The IOC matcher's hits turned into counts per (row, indicator). Hits come from         */
/* scanning the rows joined by one NUL each (row r starts at offsets[r] + r there), with  */
/* inclusive ends. A hit of a word indicator (word[i] set) counts only with no identifier */
/* byte right before or after it inside its row; overlapping hits of one indicator in one */
/* row count once (intervals chained by overlap are one hit). counts is rows x            */
/* indicators int32 and must be zero on entry: only cells with hits are written, so the   */
/* pages of an np.zeros matrix without hits are never touched. Hits are bucketed by row   */
/* (a counting sort), then each row's are sorted by (indicator, start, longest first).    */

typedef struct {
    int64_t indicator, start, end;
} interval;

static int interval_order(const void *a, const void *b)
{
    const interval *x = (const interval *)a, *y = (const interval *)b;
    if (x->indicator != y->indicator) {
        return x->indicator < y->indicator ? -1 : 1;
    }
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    if (x->end != y->end) {
        return x->end > y->end ? -1 : 1; /* longer first, as the numpy version sorts */
    }
    return 0;
}

static void sort_intervals(interval *items, Py_ssize_t count)
{
    if (count > 24) {
        qsort(items, (size_t)count, sizeof(interval), interval_order);
        return;
    }
    for (Py_ssize_t i = 1; i < count; i++) { /* insertion sort: a row has few hits */
        interval item = items[i];
        Py_ssize_t j = i;
        while (j > 0 && interval_order(&items[j - 1], &item) > 0) {
            items[j] = items[j - 1];
            j--;
        }
        items[j] = item;
    }
}

static PyObject *indicator_counts(PyObject *self, PyObject *args)
{
    Py_buffer data = {0}, offsets = {0}, starts = {0}, ends = {0}, indicators = {0};
    Py_buffer word = {0}, identifier = {0}, counts = {0};
    PyObject *result = NULL;
    int64_t *row_of = NULL, *first = NULL, *filled = NULL;
    interval *placed = NULL;

    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*w*", &data, &offsets, &starts, &ends,
                          &indicators, &word, &identifier, &counts)) {
        return NULL;
    }
    if (check_buffer(&starts, 8, "starts") ||
        check_buffer(&ends, 8, "ends") || check_buffer(&indicators, 8, "indicators") ||
        check_buffer(&counts, 4, "counts")) {
        goto done;
    }
    const int64_t *off;
    Py_ssize_t n;
    if (row_offsets(&offsets, &data, &off, &n)) {
        goto done;
    }
    Py_ssize_t n_hits = starts.len / 8, n_indicators = word.len;
    if (ends.len / 8 != n_hits || indicators.len / 8 != n_hits || identifier.len != 256 ||
        n_indicators < 1 || counts.len / 4 != n * n_indicators) {
        PyErr_SetString(PyExc_ValueError,
                        "need starts, ends and indicators of one length, 256 identifier "
                        "flags and counts of rows x indicators");
        goto done;
    }
    const int64_t *hit_start = (const int64_t *)starts.buf, *hit_end = (const int64_t *)ends.buf;
    const int64_t *hit_indicator = (const int64_t *)indicators.buf;
    const int64_t text_length = n > 0 ? (int64_t)data.len + n - 1 : 0;
    for (Py_ssize_t h = 0; h < n_hits; h++) {
        if (hit_indicator[h] < 0 || hit_indicator[h] >= n_indicators || hit_start[h] < 0 ||
            hit_start[h] > hit_end[h] || hit_end[h] >= text_length) {
            PyErr_SetString(PyExc_ValueError, "a hit lies outside the text or names no indicator");
            goto done;
        }
    }
    row_of = (int64_t *)malloc(((size_t)n_hits + 1) * sizeof(int64_t));
    first = (int64_t *)calloc((size_t)n + 1, sizeof(int64_t));
    filled = (int64_t *)calloc((size_t)n + 1, sizeof(int64_t));
    placed = (interval *)malloc(((size_t)n_hits + 1) * sizeof(interval));
    if (row_of == NULL || first == NULL || filled == NULL || placed == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    {
        const uint8_t *bytes = (const uint8_t *)data.buf;
        const uint8_t *is_word = (const uint8_t *)word.buf;
        const uint8_t *is_identifier = (const uint8_t *)identifier.buf;
        int32_t *out = (int32_t *)counts.buf;
        int across = 0;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t h = 0; h < n_hits && !across; h++) {
            /* The row: the last r with offsets[r] + r <= end. */
            Py_ssize_t lo = 0, hi = n - 1;
            while (lo < hi) {
                Py_ssize_t mid = lo + (hi - lo + 1) / 2;
                if (off[mid] + mid <= hit_end[h]) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            Py_ssize_t r = lo;
            int64_t start = hit_start[h] - r, end = hit_end[h] - r;
            row_of[h] = -1;
            if (start < off[r] || end >= off[r + 1]) {
                across = 1; /* the NUL between rows is in no pattern */
                break;
            }
            if (is_word[hit_indicator[h]]) {
                uint8_t before = start > off[r] ? bytes[start - 1] : ' ';
                uint8_t after = end + 1 < off[r + 1] ? bytes[end + 1] : ' ';
                if (is_identifier[before] || is_identifier[after]) {
                    continue;
                }
            }
            row_of[h] = r;
            first[r + 1]++;
        }
        if (!across) {
            for (Py_ssize_t r = 0; r < n; r++) {
                first[r + 1] += first[r];
            }
            for (Py_ssize_t h = 0; h < n_hits; h++) {
                int64_t r = row_of[h];
                if (r >= 0) {
                    interval *item = &placed[first[r] + filled[r]++];
                    item->indicator = hit_indicator[h];
                    item->start = hit_start[h] - r;
                    item->end = hit_end[h] - r;
                }
            }
            for (Py_ssize_t r = 0; r < n; r++) {
                Py_ssize_t size = (Py_ssize_t)(first[r + 1] - first[r]);
                if (size == 0) {
                    continue;
                }
                interval *items = placed + first[r];
                sort_intervals(items, size);
                int32_t *row_counts = out + r * n_indicators;
                int64_t reach = -1;
                for (Py_ssize_t i = 0; i < size; i++) {
                    int fresh = i == 0 || items[i].indicator != items[i - 1].indicator ||
                                items[i].start > reach;
                    if (i == 0 || items[i].indicator != items[i - 1].indicator) {
                        reach = items[i].end;
                    } else if (items[i].end > reach) {
                        reach = items[i].end;
                    }
                    row_counts[items[i].indicator] += fresh;
                }
            }
        }
        Py_END_ALLOW_THREADS
        if (across) {
            PyErr_SetString(PyExc_ValueError, "a hit runs across two rows");
            goto done;
        }
    }
    result = Py_NewRef(Py_None);
done:
    free(row_of);
    free(first);
    free(filled);
    free(placed);
    RELEASE_ALL(&data, &offsets, &starts, &ends, &indicators, &word, &identifier, &counts);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* name_stats(data, offsets, symbol_of_byte, n_symbols, class_of_byte, log2_of_count,     */
/*            inverse_of_count, stats)                                                  */
/*                                                                                      */
/* Character statistics of short names, 8 float64 columns per row: length, entropy,      */
/* digit share, hyphen share, vowels per consonant, longest consonant run, longest digit  */
/* run, distinct symbols per byte. Symbols and the 5 byte classes (other, vowel,          */
/* consonant, digit, hyphen) come from the caller's tables, as do log2(count) and         */
/* 1 / count (count capped at 255), summed byte by byte in the order the numpy version    */
/* sums them, so the columns are the same.                                                */

static PyObject *name_stats(PyObject *self, PyObject *args)
{
    Py_buffer data = {0}, offsets = {0}, symbol_of = {0}, class_of = {0};
    Py_buffer log2_of = {0}, inverse_of = {0}, stats = {0};
    Py_ssize_t n_symbols;
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*y*y*ny*y*y*w*", &data, &offsets, &symbol_of, &n_symbols,
                          &class_of, &log2_of, &inverse_of, &stats)) {
        return NULL;
    }
    if (check_buffer(&log2_of, 8, "log2_of_count") ||
        check_buffer(&inverse_of, 8, "inverse_of_count") || check_buffer(&stats, 8, "stats")) {
        goto done;
    }
    const int64_t *off;
    Py_ssize_t n;
    if (row_offsets(&offsets, &data, &off, &n)) {
        goto done;
    }
    const uint8_t *symbols = (const uint8_t *)symbol_of.buf;
    const uint8_t *classes = (const uint8_t *)class_of.buf;
    if (symbol_of.len != 256 || class_of.len != 256 || n_symbols < 1 || n_symbols > 256 ||
        log2_of.len != 256 * 8 || inverse_of.len != 256 * 8 || stats.len / 8 != n * 8) {
        PyErr_SetString(PyExc_ValueError,
                        "need 256-entry symbol, class, log2 and inverse tables and 8 "
                        "statistics per row");
        goto done;
    }
    for (int b = 0; b < 256; b++) {
        if (symbols[b] >= n_symbols || classes[b] > 4) {
            PyErr_SetString(PyExc_ValueError, "a symbol or class id is out of range");
            goto done;
        }
    }
    {
        const uint8_t *bytes = (const uint8_t *)data.buf;
        const double *log2_count = (const double *)log2_of.buf;
        const double *inverse_count = (const double *)inverse_of.buf;
        double *out = (double *)stats.buf;
        enum { OTHER, VOWEL, CONSONANT, DIGIT, HYPHEN };
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < n; r++) {
            const uint8_t *row = bytes + off[r];
            int64_t length = off[r + 1] - off[r];
            int64_t histogram[256] = {0};
            int64_t per_class[5] = {0};
            int64_t run = 0, consonant_run = 0, digit_run = 0;
            int previous = -1;
            for (int64_t i = 0; i < length; i++) {
                histogram[symbols[row[i]]]++;
                int kind = classes[row[i]];
                per_class[kind]++;
                run = kind == previous ? run + 1 : 1;
                previous = kind;
                if (kind == CONSONANT && run > consonant_run) {
                    consonant_run = run;
                }
                if (kind == DIGIT && run > digit_run) {
                    digit_run = run;
                }
            }
            double log_count = 0.0, distinct = 0.0;
            for (int64_t i = 0; i < length; i++) {
                int64_t count = histogram[symbols[row[i]]];
                count = count < 255 ? count : 255;
                log_count += log2_count[count];
                distinct += inverse_count[count];
            }
            double size = (double)length, safe = length > 1 ? size : 1.0;
            double *line = out + r * 8;
            line[0] = size;
            line[1] = length > 0 ? log2(safe) - log_count / safe : 0.0;
            line[2] = (double)per_class[DIGIT] / safe;
            line[3] = (double)per_class[HYPHEN] / safe;
            line[4] = (double)per_class[VOWEL] /
                      (double)(per_class[CONSONANT] > 1 ? per_class[CONSONANT] : 1);
            line[5] = (double)consonant_run;
            line[6] = (double)digit_run;
            line[7] = rint(distinct) / safe;
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    RELEASE_ALL(&data, &offsets, &symbol_of, &class_of, &log2_of, &inverse_of, &stats);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* string_hashes(data, offsets, seed, out)                                               */
/*                                                                                      */
/* vigil.intel._strings.hash_strings: per string, Horner's rule over its bytes from the   */
/* seed (times the FNV-1 64-bit prime, plus the byte), the length times the golden ratio  */
/* mixed in, then splitmix64's finalizer. The numpy twin runs column by column over the   */
/* strings sorted by length; here each string is one loop.                                */

static const uint64_t string_hash_base = 0x100000001B3ULL;
static const uint64_t string_hash_golden = 0x9E3779B97F4A7C15ULL;

static PyObject *string_hashes(PyObject *self, PyObject *args)
{
    Py_buffer data = {0}, offsets = {0}, out = {0};
    unsigned long long seed;
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*y*Kw*", &data, &offsets, &seed, &out)) {
        return NULL;
    }
    const int64_t *off;
    Py_ssize_t n;
    if (row_offsets(&offsets, &data, &off, &n) || check_buffer(&out, 8, "out")) {
        goto done;
    }
    if (out.len / 8 != n) {
        PyErr_SetString(PyExc_ValueError, "need one output hash per string");
        goto done;
    }
    {
        const uint8_t *bytes = (const uint8_t *)data.buf;
        uint64_t *hashes = (uint64_t *)out.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < n; r++) {
            uint64_t h = (uint64_t)seed;
            for (int64_t i = off[r]; i < off[r + 1]; i++) {
                h = h * string_hash_base + bytes[i];
            }
            h ^= (uint64_t)(off[r + 1] - off[r]) * string_hash_golden;
            h ^= h >> 30;
            h *= 0xBF58476D1CE4E5B9ULL;
            h ^= h >> 27;
            h *= 0x94D049BB133111EBULL;
            h ^= h >> 31;
            hashes[r] = h;
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    RELEASE_ALL(&data, &offsets, &out);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* hash_slots(hashes, slots) -> duplicates                                               */
/* hash_slots_find(slots, hashes, queries, out)                                          */
/*                                                                                      */
/* An open-addressing table (linear probing) over distinct 64-bit hashes, for             */
/* vigil.intel._strings.StringSet: slots (a power of two, more of them than hashes) hold  */
/* the index of the hash that lives there, or -1. A probe reads about one cache line; the */
/* numpy twin sorts the queries and binary-searches the sorted hashes. The hashes are     */
/* already mixed, so their low bits pick the home slot. hash_slots returns how many       */
/* hashes repeat an earlier one (those are left out: the caller rehashes with another     */
/* seed); hash_slots_find gives each query the index of its hash, or -1.                  */

static int slot_table(Py_buffer *slots, Py_ssize_t *capacity)
{
    if (check_buffer(slots, 8, "slots")) {
        return -1;
    }
    *capacity = slots->len / 8;
    if (power_of_two_bits(*capacity, 48) < 0) {
        PyErr_SetString(PyExc_ValueError, "slots: need a power of two (2 to 2**48) of them");
        return -1;
    }
    return 0;
}

static PyObject *hash_slots(PyObject *self, PyObject *args)
{
    Py_buffer hashes = {0}, slots = {0};
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*w*", &hashes, &slots)) {
        return NULL;
    }
    Py_ssize_t capacity;
    if (check_buffer(&hashes, 8, "hashes") || slot_table(&slots, &capacity)) {
        goto done;
    }
    Py_ssize_t n = hashes.len / 8;
    if (n >= capacity) {
        PyErr_SetString(PyExc_ValueError, "slots: need more slots than hashes");
        goto done;
    }
    {
        const uint64_t *h = (const uint64_t *)hashes.buf;
        int64_t *table = (int64_t *)slots.buf;
        uint64_t mask = (uint64_t)capacity - 1;
        Py_ssize_t duplicates = 0;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t s = 0; s < capacity; s++) {
            table[s] = -1;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            uint64_t s = h[i] & mask;
            while (table[s] >= 0 && h[table[s]] != h[i]) {
                s = (s + 1) & mask;
            }
            if (table[s] >= 0) {
                duplicates++;
            } else {
                table[s] = i;
            }
        }
        Py_END_ALLOW_THREADS
        result = PyLong_FromSsize_t(duplicates);
    }
done:
    RELEASE_ALL(&hashes, &slots);
    return result;
}

/* Position of key among keys through an open-addressing table (slot = key & mask, linear
 * probing, at most one lap so a table without a free slot cannot loop forever): -1 if
 * absent, -2 if the table names a position past the keys. */
static inline int64_t slot_probe(const int64_t *table, uint64_t mask, const uint64_t *keys,
                                 Py_ssize_t n_keys, uint64_t key)
{
    uint64_t s = key & mask;
    for (uint64_t probes = 0; probes <= mask; probes++) {
        int64_t at = table[s];
        if (at < 0) {
            return -1;
        }
        if (at >= n_keys) {
            return -2;
        }
        if (keys[at] == key) {
            return at;
        }
        s = (s + 1) & mask;
    }
    return -1;
}

static PyObject *hash_slots_find(PyObject *self, PyObject *args)
{
    Py_buffer slots = {0}, hashes = {0}, queries = {0}, out = {0};
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*y*y*w*", &slots, &hashes, &queries, &out)) {
        return NULL;
    }
    Py_ssize_t capacity;
    if (slot_table(&slots, &capacity) || check_buffer(&hashes, 8, "hashes") ||
        check_buffer(&queries, 8, "queries") || check_buffer(&out, 8, "out")) {
        goto done;
    }
    if (out.len != queries.len) {
        PyErr_SetString(PyExc_ValueError, "need one output index per query");
        goto done;
    }
    {
        const int64_t *table = (const int64_t *)slots.buf;
        const uint64_t *h = (const uint64_t *)hashes.buf;
        const uint64_t *q = (const uint64_t *)queries.buf;
        int64_t *found = (int64_t *)out.buf;
        Py_ssize_t n_hashes = hashes.len / 8, n = queries.len / 8;
        uint64_t mask = (uint64_t)capacity - 1;
        int bad = 0;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n && !bad; i++) {
            int64_t at = slot_probe(table, mask, h, n_hashes, q[i]);
            bad = at == -2;
            found[i] = at < 0 ? -1 : at;
        }
        Py_END_ALLOW_THREADS
        if (bad) {
            PyErr_SetString(PyExc_ValueError, "slots: an index past the hashes");
            goto done;
        }
    }
    result = Py_NewRef(Py_None);
done:
    RELEASE_ALL(&slots, &hashes, &queries, &out);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* plain_names(data, offsets, valid, max_length, out, out_offsets, status)                */
/*                                                                                      */
/* vigil.features.entities.normalize_domains' fast path, one pass per value. A value is   */
/* plain when it is labels of [A-Za-z0-9_-], at least two, separated by single dots, with */
/* one optional final dot. status: 2 = a plain name, written to out lower-cased and       */
/* without the final dot; 1 = plain but not a name (longer than max_length, a label over  */
/* 63 characters, an all-digit last label) or null: the result is null; 0 = not plain:   */
/* the per-value Python path decides (URLs, Unicode, ports, wrappers). The numpy twin     */
/* runs the same rules as Arrow regex passes.                                             */

static inline int name_byte(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

/* The arguments every kernel that writes new strings takes: rows (offsets into data), a
 * validity byte per row, an output at least as long as the data and its offsets (one more
 * than rows). Sets *offsets_out and *rows or raises. */
static int strings_out(Py_buffer *data, Py_buffer *offsets, const Py_buffer *valid,
                       const Py_buffer *out, Py_buffer *out_offsets, const int64_t **offsets_out,
                       Py_ssize_t *rows)
{
    if (row_offsets(offsets, data, offsets_out, rows) ||
        check_buffer(out_offsets, 8, "out_offsets")) {
        return -1;
    }
    const int64_t *off = *offsets_out;
    if (valid->len != *rows || out_offsets->len / 8 != *rows + 1 ||
        out->len < off[*rows] - off[0]) {
        PyErr_SetString(PyExc_ValueError,
                        "need a validity byte per row, one output offset more than rows and "
                        "an output as long as the data");
        return -1;
    }
    return 0;
}

static PyObject *plain_names(PyObject *self, PyObject *args)
{
    Py_buffer data = {0}, offsets = {0}, valid = {0}, out = {0}, out_offsets = {0},
              status = {0};
    Py_ssize_t max_length;
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*y*y*nw*w*w*", &data, &offsets, &valid, &max_length, &out,
                          &out_offsets, &status)) {
        return NULL;
    }
    const int64_t *off;
    Py_ssize_t n;
    if (strings_out(&data, &offsets, &valid, &out, &out_offsets, &off, &n)) {
        goto done;
    }
    if (status.len != n) {
        PyErr_SetString(PyExc_ValueError, "need a status byte per row");
        goto done;
    }
    {
        const uint8_t *bytes = (const uint8_t *)data.buf;
        const uint8_t *is_valid = (const uint8_t *)valid.buf;
        uint8_t *written = (uint8_t *)out.buf;
        int64_t *ends = (int64_t *)out_offsets.buf;
        uint8_t *kind = (uint8_t *)status.buf;
        int64_t w = 0;
        Py_BEGIN_ALLOW_THREADS
        ends[0] = 0;
        for (Py_ssize_t r = 0; r < n; r++) {
            const uint8_t *row = bytes + off[r];
            int64_t length = off[r + 1] - off[r];
            kind[r] = 1;
            ends[r + 1] = w;
            if (!is_valid[r]) {
                continue;
            }
            if (length > 0 && row[length - 1] == '.') {
                length--; /* one final dot is allowed, and dropped */
            }
            int64_t labels = 1, label = 0, longest = 0;
            int plain = length > 0, digits_only = 1;
            for (int64_t i = 0; i < length && plain; i++) {
                uint8_t c = row[i];
                if (c == '.') {
                    plain = label > 0; /* no empty label */
                    labels++;
                    label = 0;
                    digits_only = 1;
                } else if (name_byte(c)) {
                    label++;
                    longest = label > longest ? label : longest;
                    digits_only &= c >= '0' && c <= '9';
                } else {
                    plain = 0;
                }
            }
            if (!plain || label == 0 || labels < 2) {
                kind[r] = 0;
                continue;
            }
            if (length > max_length || longest > 63 || digits_only) {
                continue;
            }
            for (int64_t i = 0; i < length; i++) {
                uint8_t c = row[i];
                written[w + i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
            }
            w += length;
            ends[r + 1] = w;
            kind[r] = 2;
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    RELEASE_ALL(&data, &offsets, &valid, &out, &out_offsets, &status);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* clean_script(data, offsets, valid, out, out_offsets, drop)                            */
/*                                                                                      */
/* vigil.features.normalize.clean_text in one pass per row: drop NUL, backtick and caret  */
/* bytes; trim ASCII whitespace (tab to carriage return, and space, as Arrow's ascii_*    */
/* kernels define it) and collapse each run of it into one space; then remove the         */
/* ' + ' of string concatenations (a quote, an optional space, a plus, an optional space, */
/* a quote: up to five bytes, all marked on the collapsed row before any is removed, as   */
/* the numpy twin does). Rows that are not valid come out empty. drop is scratch space,   */
/* at least as long as the data.                                                          */

static inline int quote_byte(uint8_t c) { return c == '\'' || c == '"'; }

/* What the cleaning pass does with a byte: keep it, drop it, or read it as whitespace. */
enum { CLEAN_KEEP = 0, CLEAN_DROP = 1, CLEAN_SPACE = 2 };

static uint8_t clean_class(uint8_t c)
{
    if (c == 0 || c == '`' || c == '^') {
        return CLEAN_DROP;
    }
    return (c == ' ' || (c >= '\t' && c <= '\r')) ? CLEAN_SPACE : CLEAN_KEEP;
}

/* Removes the ' + ' concatenations of one collapsed row, row[0..length), in place; returns
 * the new length. Every span is marked on the row as it was before any is removed. */
static int64_t join_concatenations(uint8_t *row, int64_t length, uint8_t *dropped)
{
    memset(dropped, 0, (size_t)length);
    int any = 0;
    for (const uint8_t *plus = memchr(row, '+', (size_t)length); plus != NULL;
         plus = memchr(plus + 1, '+', (size_t)(row + length - plus - 1))) {
        int64_t p = plus - row, left = p - 1, right = p + 1;
        if (left >= 0 && row[left] == ' ') {
            left--;
        }
        if (right < length && row[right] == ' ') {
            right++;
        }
        if (left >= 0 && right < length && quote_byte(row[left]) && quote_byte(row[right])) {
            memset(dropped + left, 1, (size_t)(right - left + 1));
            any = 1;
        }
    }
    if (!any) {
        return length;
    }
    int64_t w = 0;
    for (int64_t i = 0; i < length; i++) {
        row[w] = row[i];
        w += !dropped[i];
    }
    return w;
}

static PyObject *clean_script(PyObject *self, PyObject *args)
{
    Py_buffer data = {0}, offsets = {0}, valid = {0}, out = {0}, out_offsets = {0}, drop = {0};
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*y*y*w*w*w*", &data, &offsets, &valid, &out, &out_offsets,
                          &drop)) {
        return NULL;
    }
    const int64_t *off;
    Py_ssize_t n;
    if (strings_out(&data, &offsets, &valid, &out, &out_offsets, &off, &n)) {
        goto done;
    }
    if (drop.len < off[n] - off[0]) {
        PyErr_SetString(PyExc_ValueError,
                        "need a validity byte per row, one output offset more than rows, and "
                        "an output and a scratch buffer as long as the data");
        goto done;
    }
    {
        const uint8_t *bytes = (const uint8_t *)data.buf;
        const uint8_t *is_valid = (const uint8_t *)valid.buf;
        uint8_t *written = (uint8_t *)out.buf;
        uint8_t *dropped = (uint8_t *)drop.buf;
        int64_t *ends = (int64_t *)out_offsets.buf;
        int64_t w = 0;
        uint8_t kind[256];
        for (int c = 0; c < 256; c++) {
            kind[c] = clean_class((uint8_t)c);
        }
        Py_BEGIN_ALLOW_THREADS
        ends[0] = 0;
        for (Py_ssize_t r = 0; r < n; r++) {
            const int64_t lo = w;
            if (is_valid[r]) {
                int space = 0;
                for (int64_t i = off[r]; i < off[r + 1]; i++) {
                    uint8_t c = bytes[i];
                    uint8_t k = kind[c];
                    if (k == CLEAN_KEEP) {
                        if (space) {
                            written[w] = ' ';
                            w += w > lo; /* no space before the row's first byte */
                            space = 0;
                        }
                        written[w++] = c;
                    } else {
                        space |= k == CLEAN_SPACE;
                    }
                }
                if (memchr(written + lo, '+', (size_t)(w - lo)) != NULL) {
                    w = lo + join_concatenations(written + lo, w - lo, dropped + lo);
                }
            }
            ends[r + 1] = w;
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    RELEASE_ALL(&data, &offsets, &valid, &out, &out_offsets, &drop);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* payload_rows(data, offsets, valid, out)                                               */
/*                                                                                      */
/* vigil.features.normalize's payload prefilter, _CANDIDATE_RE2, without a regex: out[r] */
/* is 1 where row r holds a dash (- / or U+2013-U+2015), a prefix of "encodedcommand" or */
/* "ec" (any case), one or more of \t \n \f \r space and ':', an optional quote, and two */
/* base64 characters [A-Za-z0-9+/]; or "frombase64string" in any case. It follows RE2's */
/* case folding, in which U+017F (long s) is an 's' and U+212A (Kelvin sign) a 'k' (the  */
/* only non-ASCII code points these classes fold in); a hypothesis property holds it to  */
/* RE2 itself. Why not the regex: Arrow compiles it on every call (0.25 ms, a quarter of */
/* a one-line PowerShell score) and its pass costs 0.8 ms per 2,048 lines.               */

static const char encoded_command[] = "encodedcommand";
static const char from_base64_string[] = "frombase64string";

/* b is the ASCII letter `letter` (lower case) in either case */
static inline int letter_is(uint8_t b, char letter) { return (b | 0x20) == (uint8_t)letter; }

/* Width of the base64 character (under RE2's case folding) at p, 0 if there is none. */
static inline int base64_char(const uint8_t *p, const uint8_t *end)
{
    uint8_t b = p[0];
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
        b == '+' || b == '/') {
        return 1;
    }
    if (b == 0xC5 && end - p >= 2 && p[1] == 0xBF) {
        return 2; /* U+017F, an 's' */
    }
    if (b == 0xE2 && end - p >= 3 && p[1] == 0x84 && p[2] == 0xAA) {
        return 3; /* U+212A, a 'k' */
    }
    return 0;
}

/* [\s:]+['"]?[a-z0-9+/]{2,} (case-insensitive) starts at p */
static int payload_follows(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *q = p;
    while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\f' || *q == '\r' ||
                       *q == ':')) {
        q++;
    }
    if (q == p) {
        return 0;
    }
    if (q < end && (*q == '\'' || *q == '"')) {
        q++;
    }
    int seen = 0;
    while (seen < 2 && q < end) {
        int width = base64_char(q, end);
        if (width == 0) {
            break;
        }
        q += width;
        seen++;
    }
    return seen >= 2;
}

/* A prefix of "encodedcommand", or "ec", then a payload, starts at p (after a dash). Only
 * the longest prefix can be followed by [\s:]: a shorter one is followed by a letter. */
static int flag_follows(const uint8_t *p, const uint8_t *end)
{
    if (end - p >= 2 && letter_is(p[0], 'e') && letter_is(p[1], 'c') &&
        payload_follows(p + 2, end)) {
        return 1;
    }
    int length = 0;
    while (length < 14 && p + length < end && letter_is(p[length], encoded_command[length])) {
        length++;
    }
    return length > 0 && payload_follows(p + length, end);
}

/* "frombase64string" in any case (an 's' may be U+017F) starts at p */
static int from_base64_follows(const uint8_t *p, const uint8_t *end)
{
    for (const char *c = from_base64_string; *c; c++) {
        if (p >= end) {
            return 0;
        }
        if (*c >= '0' && *c <= '9') {
            if (*p != (uint8_t)*c) {
                return 0;
            }
            p++;
        } else if (letter_is(*p, *c)) {
            p++;
        } else if (*c == 's' && p[0] == 0xC5 && end - p >= 2 && p[1] == 0xBF) {
            p += 2;
        } else {
            return 0;
        }
    }
    return 1;
}

static int payload_row(const uint8_t *p, const uint8_t *end, const uint8_t *starts)
{
    for (; p < end; p++) {
        uint8_t b = *p;
        if (!starts[b]) { /* the common case: one table load per byte */
            continue;
        }
        if ((b == '-' || b == '/') && flag_follows(p + 1, end)) {
            return 1;
        }
        if (b == 0xE2 && end - p >= 3 && p[1] == 0x80 && p[2] >= 0x93 && p[2] <= 0x95 &&
            flag_follows(p + 3, end)) {
            return 1;
        }
        if (letter_is(b, 'f') && from_base64_follows(p, end)) {
            return 1;
        }
    }
    return 0;
}

static PyObject *payload_rows(PyObject *self, PyObject *args)
{
    Py_buffer data = {0}, offsets = {0}, valid = {0}, out = {0};
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*y*y*w*", &data, &offsets, &valid, &out)) {
        return NULL;
    }
    const int64_t *off;
    Py_ssize_t n;
    if (row_offsets(&offsets, &data, &off, &n)) {
        goto done;
    }
    if (valid.len != n || out.len != n) {
        PyErr_SetString(PyExc_ValueError, "need a validity byte and an output byte per row");
        goto done;
    }
    {
        const uint8_t *bytes = (const uint8_t *)data.buf;
        const uint8_t *is_valid = (const uint8_t *)valid.buf;
        uint8_t *found = (uint8_t *)out.buf;
        uint8_t starts[256] = {0}; /* the bytes a match can start with */
        starts['-'] = starts['/'] = starts[0xE2] = starts['f'] = starts['F'] = 1;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < n; r++) {
            found[r] = is_valid[r] && payload_row(bytes + off[r], bytes + off[r + 1], starts);
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    RELEASE_ALL(&data, &offsets, &valid, &out);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* trigram_scores(data, offsets, symbol_of_byte, model, bos, eos, n_symbols, mean, low)   */
/*                                                                                      */
/* vigil.features._lexical.trigram_scores in one pass per name: each byte's symbol is     */
/* predicted from the two before it (bos before the name starts), then eos from the last */
/* two; model holds log P(c | a b) at (a * n_symbols + b) * n_symbols + c. Per name: the  */
/* mean log-probability of its length + 1 events (summed in float64 in byte order, the   */
/* end event last, as the numpy twin's bincount does) and the lowest.                    */

static PyObject *trigram_scores(PyObject *self, PyObject *args)
{
    Py_buffer data = {0}, offsets = {0}, symbol_of = {0}, model = {0}, mean = {0}, low = {0};
    int bos, eos, n_symbols;
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*y*y*y*iiiw*w*", &data, &offsets, &symbol_of, &model, &bos,
                          &eos, &n_symbols, &mean, &low)) {
        return NULL;
    }
    const int64_t *off;
    Py_ssize_t n;
    if (row_offsets(&offsets, &data, &off, &n) || check_buffer(&model, 4, "model") ||
        check_buffer(&mean, 4, "mean") || check_buffer(&low, 4, "low")) {
        goto done;
    }
    if (n_symbols < 1 || n_symbols > 256 || bos < 0 || bos >= n_symbols || eos < 0 ||
        eos >= n_symbols || model.len / 4 != (Py_ssize_t)n_symbols * n_symbols * n_symbols) {
        PyErr_SetString(PyExc_ValueError,
                        "need bos and eos below n_symbols and a model of n_symbols**3 floats");
        goto done;
    }
    if (symbol_of.len != 256 || mean.len / 4 != n || low.len / 4 != n) {
        PyErr_SetString(PyExc_ValueError,
                        "need 256 symbol ids and one mean and one low value per row");
        goto done;
    }
    {
        const uint8_t *sym = (const uint8_t *)symbol_of.buf;
        for (int b = 0; b < 256; b++) {
            if (sym[b] >= n_symbols) {
                PyErr_SetString(PyExc_ValueError, "symbol ids must be below n_symbols");
                goto done;
            }
        }
        const uint8_t *bytes = (const uint8_t *)data.buf;
        const float *logp = (const float *)model.buf;
        float *out_mean = (float *)mean.buf;
        float *out_low = (float *)low.buf;
        const Py_ssize_t S = n_symbols;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < n; r++) {
            Py_ssize_t a = bos, b = bos;
            double total = 0.0;
            float lowest = 0.0f;
            for (int64_t i = off[r]; i < off[r + 1]; i++) {
                Py_ssize_t c = sym[bytes[i]];
                float p = logp[(a * S + b) * S + c];
                total += (double)p;
                lowest = (i == off[r] || p < lowest) ? p : lowest;
                a = b;
                b = c;
            }
            float end = logp[(a * S + b) * S + eos];
            total += (double)end;
            out_mean[r] = (float)(total / (double)(off[r + 1] - off[r] + 1));
            out_low[r] = (off[r + 1] == off[r] || end < lowest) ? end : lowest;
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    RELEASE_ALL(&data, &offsets, &symbol_of, &model, &mean, &low);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* segment_words(data, offsets, letter_index, direct3, direct4, slots, keys, is_word,     */
/*               min_word, max_word, covered, words, longest)                            */
/*                                                                                      */
/* vigil.features._lexical.WordList.segment, one name at a time: left to right, take the */
/* longest word starting here, else skip one byte. Words and their prefixes are base-27  */
/* codes (a = 1 .. z = 26; any other byte ends a word); 3- and 4-letter prefixes are      */
/* looked up in direct tables of flags (1: a prefix, 2: a word), longer ones in the      */
/* word list's hash table (hash_slots over its keys mixed as _hashindex._mix mixes them, */
/* probed by slot_probe as hash_slots_find probes it). Only the positions the walk       */
/* visits are looked up. Per name: the bytes covered by words, the number of words, the  */
/* longest.                                                                              */

#define PREFIX_FLAGS_WORD 2u

static inline uint64_t mix_key(uint64_t key)
{
    uint64_t mixed = key * 0x9E3779B97F4A7C15ULL;
    return mixed ^ (mixed >> 31);
}

static PyObject *segment_words(PyObject *self, PyObject *args)
{
    Py_buffer data = {0}, offsets = {0}, letter_index = {0}, direct3 = {0}, direct4 = {0},
              slots = {0}, keys = {0}, is_word = {0}, covered = {0}, words = {0}, longest = {0};
    int min_word, max_word;
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*iiw*w*w*", &data, &offsets, &letter_index,
                          &direct3, &direct4, &slots, &keys, &is_word, &min_word, &max_word,
                          &covered, &words, &longest)) {
        return NULL;
    }
    const int64_t *off;
    Py_ssize_t n, capacity;
    if (row_offsets(&offsets, &data, &off, &n) || slot_table(&slots, &capacity) ||
        check_buffer(&keys, 8, "keys") || check_buffer(&covered, 8, "covered") ||
        check_buffer(&words, 8, "words") || check_buffer(&longest, 8, "longest")) {
        goto done;
    }
    if (letter_index.len != 256 || direct3.len != 27 * 27 * 27 ||
        direct4.len != 27 * 27 * 27 * 27 || is_word.len != keys.len / 8 || min_word != 3 ||
        max_word < 4 || max_word > 13 || covered.len / 8 != n || words.len / 8 != n ||
        longest.len / 8 != n) {
        PyErr_SetString(PyExc_ValueError,
                        "need 256 letter ids, direct tables of 27**3 and 27**4 flags, a word flag "
                        "per key, words of 3 to at most 13 letters and one output per row");
        goto done;
    }
    {
        const uint8_t *letter = (const uint8_t *)letter_index.buf;
        for (int b = 0; b < 256; b++) {
            if (letter[b] > 26) {
                PyErr_SetString(PyExc_ValueError, "letter ids must be 0 to 26");
                goto done;
            }
        }
        const uint8_t *bytes = (const uint8_t *)data.buf;
        const uint8_t *flags3 = (const uint8_t *)direct3.buf;
        const uint8_t *flags4 = (const uint8_t *)direct4.buf;
        const int64_t *table = (const int64_t *)slots.buf;
        const uint64_t *key = (const uint64_t *)keys.buf;
        const uint8_t *word = (const uint8_t *)is_word.buf;
        const Py_ssize_t n_keys = keys.len / 8;
        const uint64_t mask = (uint64_t)capacity - 1;
        int64_t *out_covered = (int64_t *)covered.buf;
        int64_t *out_words = (int64_t *)words.buf;
        int64_t *out_longest = (int64_t *)longest.buf;
        int bad = 0;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < n && !bad; r++) {
            const uint8_t *row = bytes + off[r];
            const int64_t length = off[r + 1] - off[r];
            int64_t cover = 0, count = 0, most = 0;
            for (int64_t p = 0; p < length;) {
                int64_t best = 0;
                if (p + 3 <= length && letter[row[p]] && letter[row[p + 1]] &&
                    letter[row[p + 2]]) {
                    uint64_t code =
                        ((uint64_t)letter[row[p]] * 27 + letter[row[p + 1]]) * 27 + letter[row[p + 2]];
                    uint8_t f = flags3[code];
                    best = (f & PREFIX_FLAGS_WORD) ? 3 : 0;
                    if (f && p + 4 <= length && letter[row[p + 3]]) {
                        code = code * 27 + letter[row[p + 3]];
                        f = flags4[code];
                        best = (f & PREFIX_FLAGS_WORD) ? 4 : best;
                        for (int k = 5; f && k <= max_word && p + k <= length; k++) {
                            uint8_t next = letter[row[p + k - 1]];
                            if (!next) {
                                break;
                            }
                            code = code * 27 + next;
                            int64_t at = slot_probe(table, mask, key, n_keys, mix_key(code));
                            if (at < 0) {
                                bad |= at == -2;
                                break;
                            }
                            best = word[at] ? k : best;
                        }
                    }
                }
                cover += best;
                count += best > 0;
                most = best > most ? best : most;
                p += best > 0 ? best : 1;
            }
            out_covered[r] = cover;
            out_words[r] = count;
            out_longest[r] = most;
        }
        Py_END_ALLOW_THREADS
        if (bad) {
            PyErr_SetString(PyExc_ValueError, "slots: an index past the keys");
            goto done;
        }
    }
    result = Py_NewRef(Py_None);
done:
    RELEASE_ALL(&data, &offsets, &letter_index, &direct3, &direct4, &slots, &keys, &is_word,
                &covered, &words, &longest);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* ancestor_sizes(data, offsets, max_length, labels) -> (ancestors, bytes, depth)         */
/* ancestor_fill(data, offsets, labels, depth, out, out_offsets, rows, levels)            */
/*                                                                                      */
/* vigil.intel._ancestors.expand: every name with each of its ancestors, the text after   */
/* its first, second, ... dot. A value is a name when it is 1 to max_length bytes long;   */
/* its label count is its dots plus one (0 for values that are not names). The fill      */
/* writes the ancestors level-major (every name at level 0, then every level-1 ancestor,  */
/* ...; rows in order within a level), as the numpy twin's one Arrow pass per level does. */

static PyObject *ancestor_sizes(PyObject *self, PyObject *args)
{
    Py_buffer data = {0}, offsets = {0}, labels = {0};
    Py_ssize_t max_length;
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*y*nw*", &data, &offsets, &max_length, &labels)) {
        return NULL;
    }
    const int64_t *off;
    Py_ssize_t n;
    if (row_offsets(&offsets, &data, &off, &n) || check_buffer(&labels, 4, "labels")) {
        goto done;
    }
    if (labels.len / 4 != n) {
        PyErr_SetString(PyExc_ValueError, "need one label count per row");
        goto done;
    }
    {
        const uint8_t *bytes = (const uint8_t *)data.buf;
        int32_t *count = (int32_t *)labels.buf;
        int64_t ancestors = 0, total = 0, depth = 0;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < n; r++) {
            int64_t length = off[r + 1] - off[r];
            count[r] = 0;
            if (length < 1 || length > max_length) {
                continue;
            }
            const uint8_t *row = bytes + off[r];
            int64_t k = 1;
            total += length;
            for (int64_t i = 0; i < length; i++) {
                if (row[i] == '.') {
                    k++;
                    total += length - i - 1;
                }
            }
            count[r] = (int32_t)k;
            ancestors += k;
            depth = k > depth ? k : depth;
        }
        Py_END_ALLOW_THREADS
        result = Py_BuildValue("LLL", (long long)ancestors, (long long)total, (long long)depth);
    }
done:
    RELEASE_ALL(&data, &offsets, &labels);
    return result;
}

static PyObject *ancestor_fill(PyObject *self, PyObject *args)
{
    Py_buffer data = {0}, offsets = {0}, labels = {0}, out = {0}, out_offsets = {0},
              rows = {0}, levels = {0};
    Py_ssize_t depth;
    PyObject *result = NULL;
    int64_t *cursor = NULL;

    if (!PyArg_ParseTuple(args, "y*y*y*nw*w*w*w*", &data, &offsets, &labels, &depth, &out,
                          &out_offsets, &rows, &levels)) {
        return NULL;
    }
    const int64_t *off;
    Py_ssize_t n;
    if (row_offsets(&offsets, &data, &off, &n) || check_buffer(&labels, 4, "labels") ||
        check_buffer(&out_offsets, 8, "out_offsets") || check_buffer(&rows, 8, "rows") ||
        check_buffer(&levels, 4, "levels")) {
        goto done;
    }
    if (labels.len / 4 != n || depth < 0) {
        PyErr_SetString(PyExc_ValueError, "need one label count per row and a depth >= 0");
        goto done;
    }
    {
        const uint8_t *bytes = (const uint8_t *)data.buf;
        const int32_t *count = (const int32_t *)labels.buf;
        Py_ssize_t capacity = rows.len / 8;
        /* what the label counts promise must fit the outputs: checked before any write */
        int64_t ancestors = 0;
        for (Py_ssize_t r = 0; r < n; r++) {
            int64_t length = off[r + 1] - off[r];
            if (count[r] < 0 || count[r] > depth || (count[r] > 0 && length < 1)) {
                PyErr_SetString(PyExc_ValueError, "labels: a count is negative, over the "
                                                  "depth, or given to an empty value");
                goto done;
            }
            ancestors += count[r];
        }
        if (levels.len / 4 != capacity || out_offsets.len / 8 != capacity + 1 ||
            ancestors != capacity) {
            PyErr_SetString(PyExc_ValueError,
                            "need rows and levels for every ancestor and one more offset");
            goto done;
        }
        cursor = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
        if (cursor == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        uint8_t *written = (uint8_t *)out.buf;
        int64_t *ends = (int64_t *)out_offsets.buf;
        int64_t *row_of = (int64_t *)rows.buf;
        int32_t *level_of = (int32_t *)levels.buf;
        Py_ssize_t room = out.len;
        int overflow = 0;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < n; r++) {
            cursor[r] = off[r];
        }
        int64_t k = 0, w = 0;
        ends[0] = 0;
        for (int32_t level = 0; level < depth && !overflow; level++) {
            for (Py_ssize_t r = 0; r < n; r++) {
                if (count[r] <= level) {
                    continue;
                }
                int64_t start = cursor[r], end = off[r + 1];
                if (w + (end - start) > room) {
                    overflow = 1;
                    break;
                }
                memcpy(written + w, bytes + start, (size_t)(end - start));
                w += end - start;
                row_of[k] = r;
                level_of[k] = level;
                ends[++k] = w;
                const uint8_t *dot = memchr(bytes + start, '.', (size_t)(end - start));
                cursor[r] = dot != NULL ? (int64_t)(dot - bytes) + 1 : end;
            }
        }
        Py_END_ALLOW_THREADS
        if (overflow) {
            PyErr_SetString(PyExc_ValueError, "out: too small for the ancestors' bytes");
            goto done;
        }
    }
    result = Py_NewRef(Py_None);
done:
    free(cursor);
    RELEASE_ALL(&data, &offsets, &labels, &out, &out_offsets, &rows, &levels);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* scan_patterns(text, byte_class, table, classes, out_offsets, out_patterns,             */
/*               pattern_length, pattern_switch, start, end, pattern) -> count            */
/*                                                                                      */
/* The IOC catalog's Aho-Corasick DFA (vigil/features/_patterns.py builds it) over a      */
/* batch's text in one pass. A transition is the next state's row start (state * classes) */
/* with the sign bit set when that state ends a pattern: the step needs no multiply and  */
/* no look at the outputs unless there are some (3 % of the bytes of a batch). The table */
/* is padded to 2**k + classes entries so that masking a row keeps any step in bounds.   */
/* Finds                                                                                  */
/* every occurrence of a non-switch pattern, and of the switch                           */
/* patterns the leftmost-longest ones (the longest at the leftmost start, then the same  */
/* after its end), as ahocorasick-rs reports them with MATCHKIND_LEFTMOST_LONGEST. Hits   */
/* go to start / end (inclusive) / pattern, non-switch ones first, each group in the     */
/* order the scan meets them; the count is returned even when it exceeds the arrays (the */
/* caller then calls again with room for all).                                           */

#define SCAN_LANES 4

typedef struct {
    const int32_t *next;
    const uint8_t *cls;
    const int64_t *out_off;
    const int64_t *outs;
    const int64_t *length;
    const uint8_t *is_switch;
    uint16_t *best;
    int64_t *hit_start, *hit_end, *hit_pattern;
    Py_ssize_t classes, n_states, capacity, count;
    int any_switch;
} scan_context;

/* The patterns that end at pos in the state whose row starts at row (the rare case: 3 % of
 * steps). Non-switch hits are written out; switch hits only mark the longest one starting
 * at each position. */
static void scan_outputs(scan_context *c, int32_t row, Py_ssize_t pos)
{
    const Py_ssize_t state = row / c->classes;
    if (state >= c->n_states) { /* only a wrong table gets here */
        return;
    }
    for (int64_t o = c->out_off[state]; o < c->out_off[state + 1]; o++) {
        const int64_t p = c->outs[o];
        const int64_t first = pos - c->length[p] + 1;
        if (first < 0) { /* cannot happen for a true suffix; guards bad tables */
            continue;
        }
        if (c->is_switch[p]) {
            if (c->best[first] == 0 || c->length[p] > c->length[c->best[first] - 1]) {
                c->best[first] = (uint16_t)(p + 1);
            }
            c->any_switch = 1;
            continue;
        }
        if (c->count < c->capacity) {
            c->hit_start[c->count] = first;
            c->hit_end[c->count] = pos;
            c->hit_pattern[c->count] = p;
        }
        c->count++;
    }
}

/* One DFA step of a lane whose row lives in a local (a register: the chain of dependent
 * table loads is the whole cost of the scan). */
#define SCAN_STEP(row, pos)                                                                  \
    do {                                                                                     \
        const int32_t step_ = next[(row) + cls[t[(pos)]]];                                   \
        (row) = step_ & row_mask;                                                            \
        if (step_ < 0) {                                                                     \
            scan_outputs(&ctx, (row), (pos));                                                \
        }                                                                                    \
    } while (0)

static PyObject *scan_patterns(PyObject *self, PyObject *args)
{
    Py_buffer text = {0}, byte_class = {0}, table = {0}, out_offsets = {0}, out_patterns = {0},
              pattern_length = {0}, pattern_switch = {0}, start = {0}, end = {0},
              pattern = {0};
    Py_ssize_t classes;
    PyObject *result = NULL;
    uint16_t *best = NULL;

    if (!PyArg_ParseTuple(args, "y*y*y*ny*y*y*y*w*w*w*", &text, &byte_class, &table, &classes,
                          &out_offsets, &out_patterns, &pattern_length, &pattern_switch, &start,
                          &end, &pattern)) {
        return NULL;
    }
    if (check_buffer(&table, 4, "table") || check_buffer(&out_offsets, 8, "out_offsets") ||
        check_buffer(&out_patterns, 8, "out_patterns") ||
        check_buffer(&pattern_length, 8, "pattern_length") || check_buffer(&start, 8, "start") ||
        check_buffer(&end, 8, "end") || check_buffer(&pattern, 8, "pattern")) {
        goto done;
    }
    Py_ssize_t n_states = out_offsets.len / 8 - 1;
    Py_ssize_t n_patterns = pattern_length.len / 8;
    Py_ssize_t capacity = start.len / 8;
    if (byte_class.len != 256 || classes < 1 || n_states < 1 || n_patterns > 65534 ||
        pattern_switch.len != n_patterns ||
        end.len / 8 != capacity || pattern.len / 8 != capacity) {
        PyErr_SetString(PyExc_ValueError,
                        "need 256 byte classes, states x classes transitions, at most 65,534 "
                        "patterns with one switch flag each and start / end / pattern arrays of "
                        "one size");
        goto done;
    }
    const uint8_t *cls = (const uint8_t *)byte_class.buf;
    const int32_t *next = (const int32_t *)table.buf;
    const int64_t *out_off = (const int64_t *)out_offsets.buf;
    const int64_t *outs = (const int64_t *)out_patterns.buf;
    const int64_t *length = (const int64_t *)pattern_length.buf;
    const uint8_t *is_switch = (const uint8_t *)pattern_switch.buf;
    /* Checked once, so the scan cannot index out of bounds. */
    for (Py_ssize_t i = 0; i < 256; i++) {
        if (cls[i] >= classes) {
            PyErr_SetString(PyExc_ValueError, "a byte class is not below classes");
            goto done;
        }
    }
    /* A row past the last state's start could step out of the table (a row that is not a
     * multiple of classes only gives wrong hits, never a read out of bounds). */
    /* No transition is checked on each call (190,000 of them took ~70 us): the table is
     * 2**k + classes entries and a step masks its row to k bits, so no row, however
     * wrong, can index past the table; a wrong row only gives wrong hits. */
    const Py_ssize_t span = table.len / 4 - classes;
    if (span < n_states * classes || span > 0x40000000 || (span & (span - 1)) != 0) {
        PyErr_SetString(PyExc_ValueError,
                        "the table must hold 2**k >= states x classes entries, then classes more");
        goto done;
    }
    const int32_t row_mask = (int32_t)(span - 1);
    if (out_off[0] != 0 || out_off[n_states] != out_patterns.len / 8) {
        PyErr_SetString(PyExc_ValueError, "out_offsets must run from 0 to the outputs");
        goto done;
    }
    for (Py_ssize_t i = 0; i < n_states; i++) {
        if (out_off[i + 1] < out_off[i]) {
            PyErr_SetString(PyExc_ValueError, "out_offsets must not decrease");
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < out_patterns.len / 8; i++) {
        if (outs[i] < 0 || outs[i] >= n_patterns) {
            PyErr_SetString(PyExc_ValueError, "an output names no pattern");
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < n_patterns; i++) {
        if (length[i] < 1 || length[i] > 65535) {
            PyErr_SetString(PyExc_ValueError, "pattern lengths must be 1 to 65535");
            goto done;
        }
    }
    const uint8_t *t = (const uint8_t *)text.buf;
    Py_ssize_t size = text.len;
    /* The longest switch pattern starting at each position, as its index + 1 (0: none). */
    best = (uint16_t *)calloc((size_t)(size > 0 ? size : 1), sizeof(uint16_t));
    if (best == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t total = 0;
    int nul_resets = 1;
    for (Py_ssize_t state = 0; state < n_states; state++) {
        nul_resets &= (next[state * classes + cls[0]] & row_mask) == 0;
    }
    {
        int64_t *hit_start = (int64_t *)start.buf;
        int64_t *hit_end = (int64_t *)end.buf;
        int64_t *hit_pattern = (int64_t *)pattern.buf;
        Py_BEGIN_ALLOW_THREADS
        scan_context ctx = {next,     cls,       out_off, outs,        length,
                            is_switch, best,     hit_start, hit_end, hit_pattern,
                            classes,  n_states, capacity,  0,       0};
        /* Lanes: the text cut after NULs into up to four parts scanned in lockstep, so
         * their chains of table loads overlap (each DFA step waits on the one before). A
         * NUL sends every state to the start when no pattern holds one (checked above). */
        Py_ssize_t lo[SCAN_LANES], hi[SCAN_LANES];
        int lanes = 1;
        lo[0] = 0;
        hi[0] = size;
        if (nul_resets && size >= 4096) {
            Py_ssize_t from = 0;
            for (lanes = 0; lanes < SCAN_LANES && (lanes == 0 || from < size); lanes++) {
                Py_ssize_t cut = size;
                Py_ssize_t at = size / SCAN_LANES * (lanes + 1);
                if (lanes < SCAN_LANES - 1 && at < size) {
                    at = at < from ? from : at;
                    const uint8_t *nul = memchr(t + at, 0, (size_t)(size - at));
                    cut = nul == NULL ? size : (Py_ssize_t)(nul - t) + 1;
                }
                lo[lanes] = from;
                hi[lanes] = cut;
                from = cut;
            }
        }
        Py_ssize_t common = 0;
        int32_t r0 = 0, r1 = 0, r2 = 0, r3 = 0;
        if (lanes == SCAN_LANES) {
            common = hi[0] - lo[0];
            for (int l = 1; l < lanes; l++) {
                common = hi[l] - lo[l] < common ? hi[l] - lo[l] : common;
            }
            for (Py_ssize_t i = 0; i < common; i++) {
                SCAN_STEP(r0, lo[0] + i);
                SCAN_STEP(r1, lo[1] + i);
                SCAN_STEP(r2, lo[2] + i);
                SCAN_STEP(r3, lo[3] + i);
            }
        }
        const int32_t rows[SCAN_LANES] = {r0, r1, r2, r3};
        for (int l = 0; l < lanes; l++) {
            int32_t r = rows[l];
            for (Py_ssize_t pos = lo[l] + common; pos < hi[l]; pos++) {
                SCAN_STEP(r, pos);
            }
        }
        Py_ssize_t count = ctx.count;
        const int any_switch = ctx.any_switch;
        /* Leftmost-longest: from each chosen switch's end on, the next start with one. */
        for (Py_ssize_t pos = 0; any_switch && pos < size;) {
            if (best[pos] == 0) {
                pos++;
                continue;
            }
            int64_t p = best[pos] - 1;
            if (count < capacity) {
                hit_start[count] = pos;
                hit_end[count] = pos + length[p] - 1;
                hit_pattern[count] = p;
            }
            count++;
            pos += length[p];
        }
        total = count;
        Py_END_ALLOW_THREADS
    }
    result = PyLong_FromSsize_t(total);
done:
    free(best);
    RELEASE_ALL(&text, &byte_class, &table, &out_offsets, &out_patterns, &pattern_length,
                &pattern_switch, &start, &end, &pattern);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* suffix_split(data, offsets, node_slots, node_keys, end_slots, end_keys, end_private,    */
/*              depth, out)                                                             */
/*                                                                                      */
/* The public suffix split of every name (vigil.features._suffixes.SuffixTable.split, its */
/* numpy twin): each name's last 1..depth+2 labels hashed as h(s) = sum s[k] * B**(len-1- */
/* k) (exponents capped at 1023) from the right in one pass, then tldextract's walk over  */
/* the rule tables (longest rule, "*." wildcards, "!" exceptions). The tables are the     */
/* HashIndex compiled tables: keys passed through mix_key, probed with slot_probe. out is */
/* rows x 10 int64: labels, suffix labels, private, label start / end, suffix start,      */
/* suffix hash (uint64 bits), effective suffix start, effective label start / end.        */

#define SPLIT_COLUMNS 10
#define SPLIT_MAX_POWER 1023
#define SPLIT_MAX_DEPTH 62

static const uint64_t split_base = 0x9E3779B97F4A7C15ULL;

typedef struct {
    const int64_t *slots;
    uint64_t mask;
    const uint64_t *keys;
    Py_ssize_t n_keys;
} split_table;

static inline int64_t split_find(const split_table *table, uint64_t hash)
{
    return slot_probe(table->slots, table->mask, table->keys, table->n_keys, mix_key(hash));
}

/* B**min(exponent, 1023), exponent >= 0. */
static inline uint64_t split_power(const uint64_t *powers, int64_t exponent)
{
    return powers[exponent < SPLIT_MAX_POWER ? exponent : SPLIT_MAX_POWER];
}

static PyObject *suffix_split(PyObject *self, PyObject *args)
{
    Py_buffer data = {0}, offsets = {0}, node_slots = {0}, node_keys = {0}, end_slots = {0},
              end_keys = {0}, end_private = {0}, out = {0};
    int depth;
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*iw*", &data, &offsets, &node_slots, &node_keys,
                          &end_slots, &end_keys, &end_private, &depth, &out)) {
        return NULL;
    }
    Py_ssize_t node_capacity, end_capacity;
    if (slot_table(&node_slots, &node_capacity) || slot_table(&end_slots, &end_capacity) ||
        check_buffer(&node_keys, 8, "node_keys") || check_buffer(&end_keys, 8, "end_keys") ||
        check_buffer(&out, 8, "out")) {
        goto done;
    }
    const int64_t *off;
    Py_ssize_t n;
    if (row_offsets(&offsets, &data, &off, &n)) {
        goto done;
    }
    if (out.len / 8 != n * SPLIT_COLUMNS || depth < 0 || depth > SPLIT_MAX_DEPTH ||
        (end_private.len != 0 && end_private.len != end_keys.len / 8)) {
        PyErr_SetString(PyExc_ValueError,
                        "need rows x 10 outputs, depth 0 to 62 and one private flag per rule "
                        "(or none)");
        goto done;
    }
    {
        const uint8_t *bytes = (const uint8_t *)data.buf;
        const uint8_t *is_private = (const uint8_t *)end_private.buf;
        const split_table nodes = {(const int64_t *)node_slots.buf, (uint64_t)node_capacity - 1,
                                   (const uint64_t *)node_keys.buf, node_keys.len / 8};
        const split_table ends = {(const int64_t *)end_slots.buf, (uint64_t)end_capacity - 1,
                                  (const uint64_t *)end_keys.buf, end_keys.len / 8};
        int64_t *o = (int64_t *)out.buf;
        const int k = depth + 2;
        uint64_t powers[SPLIT_MAX_POWER + 1];
        powers[0] = 1;
        for (int e = 1; e <= SPLIT_MAX_POWER; e++) {
            powers[e] = powers[e - 1] * split_base;
        }
        int bad = 0;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < n && !bad; r++, o += SPLIT_COLUMNS) {
            const int64_t row_start = off[r], row_end = off[r + 1];
            /* starts[j]: where the last j labels begin; hashes[j]: their hash. */
            int64_t starts[SPLIT_MAX_DEPTH + 3];
            uint64_t hashes[SPLIT_MAX_DEPTH + 3];
            int64_t labels = 1;
            int filled = 1;
            starts[0] = row_end;
            hashes[0] = 0;
            uint64_t h = 0;
            if (row_end > row_start && bytes[row_end - 1] == '.') { /* an empty last label */
                labels++;
                starts[filled] = row_end;
                hashes[filled] = 0;
                filled++;
            }
            for (int64_t pos = row_end - 1; pos >= row_start; pos--) {
                h += (uint64_t)bytes[pos] * split_power(powers, row_end - 1 - pos);
                if (pos > row_start && bytes[pos - 1] == '.') {
                    labels++;
                    if (filled <= k) {
                        starts[filled] = pos;
                        hashes[filled] = h;
                        filled++;
                    }
                }
            }
            for (; filled <= k; filled++) { /* fewer labels: the whole name */
                starts[filled] = row_start;
                hashes[filled] = row_start < row_end ? h : 0;
            }
            int64_t found_depth = 0, rule = 0, private_rule = 0;
            for (int j = 1; j <= depth && j <= labels; j++) {
                int64_t node = split_find(&nodes, hashes[j]);
                if (node == -2) {
                    bad = 1;
                    break;
                }
                if (node < 0) {
                    break;
                }
                found_depth = j;
                int64_t end = split_find(&ends, hashes[j]);
                if (end == -2) {
                    bad = 1;
                    break;
                }
                if (end >= 0) {
                    rule = j;
                    private_rule = end_private.len ? is_private[end] != 0 : 0;
                }
            }
            const int64_t d = found_depth;
            const int64_t len_d = row_end - starts[d], len_next = row_end - starts[d + 1];
            uint64_t wildcard = hashes[d] + (uint64_t)'.' * split_power(powers, len_d) +
                                (uint64_t)'*' * split_power(powers, len_d + 1);
            uint64_t exception = hashes[d + 1] + (uint64_t)'!' * split_power(powers, len_next);
            int64_t wild_node = split_find(&nodes, wildcard);
            int64_t exception_node = split_find(&nodes, exception);
            int64_t wild_rule = split_find(&ends, wildcard);
            if (wild_node == -2 || exception_node == -2 || wild_rule == -2) {
                bad = 1;
                break;
            }
            int wild = wild_node >= 0 && d < labels;
            int64_t suffix_labels = wild ? (exception_node >= 0 ? d : d + 1) : rule;
            if (wild && end_private.len) {
                private_rule = wild_rule >= 0 && is_private[wild_rule] != 0;
            }
            int64_t effective = suffix_labels > 1 ? suffix_labels : 1;
            o[0] = labels;
            o[1] = suffix_labels;
            o[2] = private_rule;
            for (int pass = 0; pass < 2; pass++) { /* the label before the suffix, then the
                                                    * label before the effective suffix */
                int64_t sl = pass ? effective : suffix_labels;
                int present = labels > sl;
                int64_t next = sl + 1 < k ? sl + 1 : k;
                int64_t start = present ? starts[next] : row_start;
                int64_t end = present ? starts[sl] - (sl > 0) : row_start;
                o[pass ? 8 : 3] = start;
                o[pass ? 9 : 4] = end;
            }
            o[5] = starts[suffix_labels];
            o[6] = (int64_t)hashes[effective];
            o[7] = starts[effective];
        }
        Py_END_ALLOW_THREADS
        if (bad) {
            PyErr_SetString(PyExc_ValueError, "slots: an index past the keys");
            goto done;
        }
    }
    result = Py_NewRef(Py_None);
done:
    RELEASE_ALL(&data, &offsets, &node_slots, &node_keys, &end_slots, &end_keys, &end_private,
                &out);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* launcher_scripts(data, offsets, out, out_offsets, status)                              */
/*                                                                                      */
/* The script of each launcher row (rows normalize._LAUNCHER_RE2 matched), for the common */
/* payload: canonical base64 of UTF-16LE text that is all printable ASCII or layout. The  */
/* payload is the row's tail after its last separator (space, tab, LF, FF, CR, colon,     */
/* quote), a closing quote dropped, as normalize._launcher_payload cuts it. status[r] = 1 */
/* where the script was written (NULs dropped, as normalize._as_text drops them), 0 where */
/* Python must decide: padding that is not canonical, a byte outside the alphabet (any    */
/* whitespace Python's str.split would remove), binary, non-ASCII or control characters, */
/* an empty script. Python's base64 and text checks then give exactly what they gave.     */

/* The value of a base64 digit, -1 for any other byte. */
static inline int base64_digit(uint8_t b)
{
    if (b >= 'A' && b <= 'Z') {
        return b - 'A';
    }
    if (b >= 'a' && b <= 'z') {
        return b - 'a' + 26;
    }
    if (b >= '0' && b <= '9') {
        return b - '0' + 52;
    }
    return b == '+' ? 62 : (b == '/' ? 63 : -1);
}

static inline int payload_separator(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ':' ||
           c == '\'' || c == '"';
}

/* The script of one payload into out; its length, or -1 to leave the row to Python. */
static int64_t launcher_script(const uint8_t *p, int64_t length, uint8_t *out)
{
    int64_t pads = 0;
    while (pads < length && p[length - 1 - pads] == '=') {
        pads++;
    }
    int64_t digits = length - pads, rest = digits % 4;
    /* Python pads to a multiple of 4; strict decoding then accepts only the canonical
     * forms: no padding after whole quads, two '=' after 2 digits, one after 3. */
    int64_t padded = pads + (4 - length % 4) % 4;
    if (digits == 0 || !((rest == 0 && padded == 0) || (rest == 2 && padded == 2) ||
                         (rest == 3 && padded == 1))) {
        return -1;
    }
    int64_t written = 0, byte_index = 0;
    uint32_t bits = 0;
    int n_bits = 0;
    uint8_t low = 0;
    for (int64_t i = 0; i < digits; i++) {
        int v = base64_digit(p[i]);
        if (v < 0) {
            return -1;
        }
        bits = (bits << 6) | (uint32_t)v;
        n_bits += 6;
        if (n_bits >= 8) {
            n_bits -= 8;
            uint8_t byte = (uint8_t)(bits >> n_bits);
            bits &= (1u << n_bits) - 1u;
            if ((byte_index & 1) == 0) {
                low = byte;
            }
            else {
                /* one UTF-16LE code unit: printable ASCII or layout only; NULs dropped */
                if (byte != 0 || low >= 0x7F || (low < 0x20 && low != '\t' && low != '\n' &&
                                                 low != '\r' && low != 0)) {
                    return -1;
                }
                if (low != 0) {
                    out[written++] = low;
                }
            }
            byte_index++;
        }
    }
    if (byte_index & 1 || written == 0) {
        return -1; /* an odd byte count is not UTF-16; an empty script is no script */
    }
    return written;
}

static PyObject *launcher_scripts(PyObject *self, PyObject *args)
{
    Py_buffer data = {0}, offsets = {0}, out = {0}, out_offsets = {0}, status = {0};
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*y*w*w*w*", &data, &offsets, &out, &out_offsets, &status)) {
        return NULL;
    }
    const int64_t *off;
    Py_ssize_t n;
    if (row_offsets(&offsets, &data, &off, &n) || check_buffer(&out_offsets, 8, "out_offsets")) {
        goto done;
    }
    if (status.len != n || out_offsets.len / 8 != n + 1 || out.len < off[n] - off[0]) {
        PyErr_SetString(PyExc_ValueError,
                        "need a status byte per row, one output offset more than rows and "
                        "an output as long as the data");
        goto done;
    }
    {
        const uint8_t *bytes = (const uint8_t *)data.buf;
        uint8_t *script = (uint8_t *)out.buf;
        int64_t *script_offsets = (int64_t *)out_offsets.buf;
        uint8_t *handled = (uint8_t *)status.buf;
        int64_t written = 0;
        script_offsets[0] = 0;
        for (Py_ssize_t r = 0; r < n; r++) {
            const uint8_t *row = bytes + off[r];
            int64_t end = off[r + 1] - off[r];
            if (end > 0 && (row[end - 1] == '\'' || row[end - 1] == '"')) {
                end--;
            }
            int64_t start = end;
            while (start > 0 && !payload_separator(row[start - 1])) {
                start--;
            }
            int64_t length = launcher_script(row + start, end - start, script + written);
            handled[r] = length >= 0;
            written += length >= 0 ? length : 0;
            script_offsets[r + 1] = written;
        }
    }
    result = Py_NewRef(Py_None);
done:
    RELEASE_ALL(&data, &offsets, &out, &out_offsets, &status);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* punycode_encode(text) -> bytes | None, punycode_decode(ascii) -> str | None            */
/*                                                                                      */
/* RFC 3492 Punycode, as Python's "punycode" codec writes and reads it (the Python codec  */
/* is pure Python: ~14 us to encode and ~8 us to decode one IDN label, most of a Unicode  */
/* domain name's cost). The encoder writes lower-case digits and keeps the basic code     */
/* points as they are; the decoder takes digits in either case and any ASCII basic part.  */
/* Each returns None where it does not answer: input past PUNY_MAX_LENGTH, and for the   */
/* decoder any invalid input or a number past PUNY_LIMIT (Python's integers do not        */
/* overflow). The caller then asks Python's codec, which decodes or raises as before.     */

#define PUNY_MAX_LENGTH 4096
#define PUNY_LIMIT ((uint64_t)1 << 53)

static inline uint64_t puny_threshold(uint64_t k, uint64_t bias)
{
    /* T(j, bias) = 36 (j + 1) - bias, clamped to [tmin 1, tmax 26]; k = 36 (j + 1). */
    return k <= bias ? 1 : (k - bias >= 26 ? 26 : k - bias);
}

static uint64_t puny_adapt(uint64_t delta, int first, uint64_t numchars)
{
    delta = first ? delta / 700 : delta / 2;
    delta += delta / numchars;
    uint64_t divisions = 0;
    while (delta > 455) { /* ((base - tmin) * tmax) / 2 */
        delta /= 35;
        divisions += 36;
    }
    return divisions + (36 * delta) / (delta + 38);
}

static PyObject *punycode_encode(PyObject *self, PyObject *args)
{
    PyObject *text;
    if (!PyArg_ParseTuple(args, "U", &text)) {
        return NULL;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    if (length > PUNY_MAX_LENGTH) {
        Py_RETURN_NONE;
    }
    const int kind = PyUnicode_KIND(text);
    const void *chars = PyUnicode_DATA(text);
    /* A delta stays below ~5e9 (code point gap x (length + 1)), and each digit divides it
     * by at least 10: 16 bytes per code point is ample. */
    char *out = (char *)malloc((size_t)length * 16 + 2);
    if (out == NULL) {
        return PyErr_NoMemory();
    }
    Py_ssize_t written = 0, basic = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, chars, i);
        if (c < 0x80) {
            out[written++] = (char)c;
            basic++;
        }
    }
    if (basic > 0) { /* Python's codec writes the delimiter after any basic part */
        out[written++] = '-';
    }
    /* With at most PUNY_MAX_LENGTH code points a delta cannot overflow: it grows by at
     * most 0x110000 x (length + 1) plus length per code point before it is written. */
    uint64_t n = 0x80, delta = 0, bias = 72, handled = (uint64_t)basic;
    while (handled < (uint64_t)length) {
        uint64_t next = UINT64_MAX;
        for (Py_ssize_t i = 0; i < length; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, chars, i);
            if (c >= n && c < next) {
                next = c;
            }
        }
        delta += (next - n) * (handled + 1);
        n = next;
        for (Py_ssize_t i = 0; i < length; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, chars, i);
            if (c < n) {
                delta++;
            }
            else if (c == n) {
                uint64_t q = delta;
                for (uint64_t k = 36;; k += 36) {
                    uint64_t t = puny_threshold(k, bias);
                    if (q < t) {
                        break;
                    }
                    uint64_t digit = t + (q - t) % (36 - t);
                    out[written++] = (char)(digit < 26 ? 'a' + digit : '0' + digit - 26);
                    q = (q - t) / (36 - t);
                }
                out[written++] = (char)(q < 26 ? 'a' + q : '0' + q - 26);
                bias = puny_adapt(delta, handled == (uint64_t)basic, handled + 1);
                delta = 0;
                handled++;
            }
        }
        delta++;
        n++;
    }
    PyObject *result = PyBytes_FromStringAndSize(out, written);
    free(out);
    return result;
}

static PyObject *punycode_decode(PyObject *self, PyObject *args)
{
    Py_buffer text = {0};
    if (!PyArg_ParseTuple(args, "y*", &text)) {
        return NULL;
    }
    const uint8_t *in = (const uint8_t *)text.buf;
    Py_ssize_t length = text.len;
    PyObject *result = NULL;
    Py_UCS4 *out = NULL;
    if (length > PUNY_MAX_LENGTH) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    out = (Py_UCS4 *)malloc(((size_t)length + 1) * sizeof(Py_UCS4));
    if (out == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t delimiter = -1;
    for (Py_ssize_t i = 0; i < length; i++) {
        if (in[i] >= 0x80) {
            result = Py_NewRef(Py_None); /* not ASCII: the codec raises */
            goto done;
        }
        if (in[i] == '-') {
            delimiter = i;
        }
    }
    Py_ssize_t size = delimiter > 0 ? delimiter : 0;
    for (Py_ssize_t i = 0; i < size; i++) {
        out[i] = in[i];
    }
    uint64_t n = 0x80, position = (uint64_t)-1, bias = 72;
    Py_ssize_t cursor = delimiter >= 0 ? delimiter + 1 : 0;
    int first = 1;
    while (cursor < length) {
        uint64_t delta = 0, weight = 1;
        for (uint64_t k = 36;; k += 36) {
            if (cursor >= length) {
                result = Py_NewRef(Py_None); /* incomplete */
                goto done;
            }
            uint8_t c = in[cursor++];
            uint64_t digit;
            if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
                digit = (uint64_t)((c | 0x20) - 'a');
            }
            else if (c >= '0' && c <= '9') {
                digit = (uint64_t)(c - '0' + 26);
            }
            else {
                result = Py_NewRef(Py_None); /* not a digit */
                goto done;
            }
            uint64_t t = puny_threshold(k, bias);
            delta += digit * weight;
            if (delta > PUNY_LIMIT) {
                result = Py_NewRef(Py_None);
                goto done;
            }
            if (digit < t) {
                break;
            }
            weight *= 36 - t;
            if (weight > PUNY_LIMIT) {
                result = Py_NewRef(Py_None);
                goto done;
            }
        }
        position += delta + 1; /* from -1: wraps to delta on the first */
        n += position / (uint64_t)(size + 1);
        if (n > 0x10FFFF) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        position %= (uint64_t)(size + 1);
        memmove(out + position + 1, out + position, ((size_t)size - position) * sizeof(Py_UCS4));
        out[position] = (Py_UCS4)n;
        size++;
        bias = puny_adapt(delta, first, (uint64_t)size);
        first = 0;
    }
    result = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, size);
done:
    free(out);
    PyBuffer_Release(&text);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* tree_margins(nodes, roots, depths, features, width, base, out)                         */
/*                                                                                      */
/* A boosted tree ensemble's raw margin per row: the leaf values the rows reach, summed in */
/* float32 tree by tree, then base added, as onnxruntime's TreeEnsembleRegressor (SUM, one */
/* target) computes it. A node is 16 bytes: {float value; int32 feature; int32 child[2]}: */
/* a row goes to child[0] when features[feature] < value, else (NaN included) child[1].   */
/* Every other split rule (<=, NaN to the true branch) is rewritten into this one by the  */
/* caller (vigil/runtime/trees.py), so the step has one compare and no flag to test: the  */
/* flag tests measured 2.3x slower. A leaf holds its weight in value and points both      */
/* children at itself, so every row of a tree takes exactly depth steps and no step       */
/* branches on data (a compare-and-jump per level mispredicts half the time, which is     */
/* where onnxruntime's loop spends most of its ~25 ns per tree and row). Rows go through  */
/* each tree in blocks of 64, so a tree's nodes and the block's features stay in L1 and   */
/* the 64 independent walks overlap their load latencies.                                 */

#define TREE_BLOCK 64
#define TREE_MAX_DEPTH 64

typedef struct {
    float value;
    int32_t feature;
    int32_t child[2];
} tree_node;

static PyObject *tree_margins(PyObject *self, PyObject *args)
{
    Py_buffer nodes = {0}, roots = {0}, depths = {0}, features = {0}, out = {0};
    Py_ssize_t width;
    float base;
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*y*y*y*nfw*", &nodes, &roots, &depths, &features, &width,
                          &base, &out)) {
        return NULL;
    }
    if (check_buffer(&nodes, (Py_ssize_t)sizeof(tree_node), "nodes") ||
        check_buffer(&roots, 4, "roots") || check_buffer(&depths, 4, "depths") ||
        check_buffer(&features, 4, "features") || check_buffer(&out, 4, "out")) {
        goto done;
    }
    const tree_node *node = (const tree_node *)nodes.buf;
    const int32_t *root = (const int32_t *)roots.buf;
    const int32_t *depth = (const int32_t *)depths.buf;
    Py_ssize_t n_nodes = nodes.len / (Py_ssize_t)sizeof(tree_node);
    Py_ssize_t n_trees = roots.len / 4;
    Py_ssize_t n = out.len / 4;
    if (depths.len / 4 != n_trees || width < 1 || features.len / 4 != n * width) {
        PyErr_SetString(PyExc_ValueError,
                        "need one depth per root and features of rows x width, one out per row");
        goto done;
    }
    /* Every index the walk can follow is checked once here, so the loop cannot stray. */
    for (Py_ssize_t i = 0; i < n_nodes; i++) {
        if (node[i].feature < 0 || node[i].feature >= width || node[i].child[0] < 0 ||
            node[i].child[0] >= n_nodes || node[i].child[1] < 0 || node[i].child[1] >= n_nodes) {
            PyErr_Format(PyExc_ValueError, "node %zd names a feature or child out of range", i);
            goto done;
        }
    }
    for (Py_ssize_t t = 0; t < n_trees; t++) {
        if (root[t] < 0 || root[t] >= n_nodes || depth[t] < 0 || depth[t] > TREE_MAX_DEPTH) {
            PyErr_Format(PyExc_ValueError, "tree %zd: root or depth out of range", t);
            goto done;
        }
    }
    {
        const float *x = (const float *)features.buf;
        float *margin = (float *)out.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r0 = 0; r0 < n; r0 += TREE_BLOCK) {
            const int block = (int)(n - r0 < TREE_BLOCK ? n - r0 : TREE_BLOCK);
            const float *rows = x + r0 * width;
            float sum[TREE_BLOCK];
            int32_t at[TREE_BLOCK];
            for (int i = 0; i < block; i++) {
                sum[i] = 0.0f;
            }
            for (Py_ssize_t t = 0; t < n_trees; t++) {
                const int32_t steps = depth[t];
                for (int i = 0; i < block; i++) {
                    at[i] = root[t];
                }
                for (int32_t level = 0; level < steps; level++) {
                    for (int i = 0; i < block; i++) {
                        const tree_node *here = node + at[i];
                        at[i] = here->child[!(rows[i * width + here->feature] < here->value)];
                    }
                }
                for (int i = 0; i < block; i++) {
                    sum[i] += node[at[i]].value;
                }
            }
            for (int i = 0; i < block; i++) {
                margin[r0 + i] = sum[i] + base;
            }
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    RELEASE_ALL(&nodes, &roots, &depths, &features, &out);
    return result;
}

/* ------------------------------------------------------------------------------------ */

static PyMethodDef kernel_methods[] = {
    {"wide_sums", wide_sums, METH_VARARGS,
     "Per row, the summed weights and the number of its distinct 3-5-gram buckets."},
    {"add_signed_windows", add_signed_windows, METH_VARARGS,
     "Add signed, scaled hashed k-byte windows of each row to its columns."},
    {"byte_stats", byte_stats, METH_VARARGS, "Per row, byte entropy and byte-class counts."},
    {"token_ngrams", token_ngrams, METH_VARARGS,
     "Per row, word-token statistics; adds signed hashed token uni- and bigrams."},
    {"indicator_counts", indicator_counts, METH_VARARGS,
     "Per row and indicator, the IOC matcher's hits counted (word bounds, overlaps once)."},
    {"name_stats", name_stats, METH_VARARGS,
     "Per name, 8 character statistics (length, entropy, shares, runs, distinct)."},
    {"ancestor_sizes", ancestor_sizes, METH_VARARGS,
     "Label counts of names, and how many ancestors and bytes they expand to."},
    {"ancestor_fill", ancestor_fill, METH_VARARGS,
     "Every name and each of its ancestors, level-major."},
    {"clean_script", clean_script, METH_VARARGS,
     "PowerShell text cleaned: ticks, carets and NULs out, whitespace collapsed, ' + ' joined."},
    {"payload_rows", payload_rows, METH_VARARGS,
     "Per row, whether it may carry an -EncodedCommand or FromBase64String payload."},
    {"trigram_scores", trigram_scores, METH_VARARGS,
     "Per name, the mean and lowest log-probability of its characters under a trigram model."},
    {"segment_words", segment_words, METH_VARARGS,
     "Greedy longest-word segmentation of each name: bytes covered, words, longest."},
    {"plain_names", plain_names, METH_VARARGS,
     "Lower-case plain ASCII domain names, and say which values need the slow path."},
    {"string_hashes", string_hashes, METH_VARARGS, "A seeded 64-bit hash of each string."},
    {"hash_slots", hash_slots, METH_VARARGS,
     "Fill an open-addressing table over distinct hashes; returns the repeats left out."},
    {"hash_slots_find", hash_slots_find, METH_VARARGS,
     "The index of each query's hash in an open-addressing table, or -1."},
    {"framed_window_sums", framed_window_sums, METH_VARARGS,
     "Per framed row, the summed weights of its 1-4-gram buckets and their number."},
    {"scan_patterns", scan_patterns, METH_VARARGS,
     "Every catalog pattern hit in a text (switches leftmost-longest) through one DFA."},
    {"suffix_split", suffix_split, METH_VARARGS,
     "The public suffix split of each name: labels, suffix, registered label, hashes."},
    {"launcher_scripts", launcher_scripts, METH_VARARGS,
     "The script of each launcher row whose payload is plain UTF-16LE ASCII; else 0."},
    {"punycode_encode", punycode_encode, METH_VARARGS,
     "RFC 3492 Punycode of a str, as Python's codec writes it; None where it does not answer."},
    {"punycode_decode", punycode_decode, METH_VARARGS,
     "The str of ASCII Punycode, as Python's codec reads it; None where it does not answer."},
    {"tree_margins", tree_margins, METH_VARARGS,
     "A boosted tree ensemble's summed leaf values plus base, per row (float32)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef kernel_module = {
    PyModuleDef_HEAD_INIT, "_kernels",
    "Compiled per-byte loops of vigil's feature extractors (see _accel.py).", -1,
    kernel_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&kernel_module); }
