/*
 * vigil.features._kernels: the per-byte loops of the feature extractors, compiled.
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

/* Offsets must start at 0, never decrease and end within the data. */
static int check_offsets(const int64_t *offsets, Py_ssize_t n_offsets, Py_ssize_t data_len)
{
    if (n_offsets < 1) {
        PyErr_SetString(PyExc_ValueError, "offsets: need at least one offset");
        return -1;
    }
    if (offsets[0] < 0) {
        PyErr_SetString(PyExc_ValueError, "offsets: must not be negative");
        return -1;
    }
    for (Py_ssize_t i = 1; i < n_offsets; i++) {
        if (offsets[i] < offsets[i - 1]) {
            PyErr_SetString(PyExc_ValueError, "offsets: must not decrease");
            return -1;
        }
    }
    if (offsets[n_offsets - 1] > data_len) {
        PyErr_SetString(PyExc_ValueError, "offsets: run past the end of the data");
        return -1;
    }
    return 0;
}

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
    if (check_buffer(&offsets, 8, "offsets") || check_buffer(&weights, 4, "weights") ||
        check_buffer(&sums, 8, "sums") || check_buffer(&counts, 8, "counts")) {
        goto done;
    }
    Py_ssize_t n_offsets = offsets.len / 8;
    Py_ssize_t n_weights = weights.len / 4;
    const int64_t *off = (const int64_t *)offsets.buf;
    if (check_offsets(off, n_offsets, data.len)) {
        goto done;
    }
    Py_ssize_t n = n_offsets - 1;
    if (sums.len / 8 != n || counts.len / 8 != n) {
        PyErr_SetString(PyExc_ValueError, "sums and counts must hold one value per row");
        goto done;
    }
    int bits = 0;
    while (((Py_ssize_t)1 << bits) < n_weights) {
        bits++;
    }
    if (bits < 1 || bits > 24 || ((Py_ssize_t)1 << bits) != n_weights) {
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
                for (int64_t i = 0; i + k <= length; i++) {
                    uint32_t bucket = (window_code(row + i, k, fifth) * multiplier[k]) >> shift;
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
    PyBuffer_Release(&data);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&weights);
    PyBuffer_Release(&sums);
    PyBuffer_Release(&counts);
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
    if (check_buffer(&values, 4, "values") || check_buffer(&offsets, 8, "offsets") ||
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
    Py_ssize_t n_offsets = offsets.len / 8;
    const int64_t *off = (const int64_t *)offsets.buf;
    if (check_offsets(off, n_offsets, data.len)) {
        goto done;
    }
    Py_ssize_t n = n_offsets - 1;
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
                float *line = out + r * width + column;
                for (Py_ssize_t b = 0; b < n_buckets; b++) {
                    line[b] += block[b];
                }
            }
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    free(block);
    PyBuffer_Release(&values);
    PyBuffer_Release(&data);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&sizes);
    PyBuffer_Release(&multipliers);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* scatter_add(values, index, weights): values[index[i]] += weights[i], in order (float32) */

static PyObject *scatter_add(PyObject *self, PyObject *args)
{
    Py_buffer values = {0}, index = {0}, weights = {0};
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "w*y*y*", &values, &index, &weights)) {
        return NULL;
    }
    if (check_buffer(&values, 4, "values") || check_buffer(&index, 8, "index") ||
        check_buffer(&weights, 4, "weights")) {
        goto done;
    }
    Py_ssize_t size = values.len / 4, count = index.len / 8;
    if (weights.len / 4 != count) {
        PyErr_SetString(PyExc_ValueError, "index and weights must be the same length");
        goto done;
    }
    const int64_t *at = (const int64_t *)index.buf;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (at[i] < 0 || at[i] >= size) {
            PyErr_Format(PyExc_IndexError, "index %lld is out of bounds for %zd values",
                         (long long)at[i], size);
            goto done;
        }
    }
    {
        float *out = (float *)values.buf;
        const float *w = (const float *)weights.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < count; i++) {
            out[at[i]] += w[i];
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&values);
    PyBuffer_Release(&index);
    PyBuffer_Release(&weights);
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
    if (check_buffer(&offsets, 8, "offsets") || check_buffer(&entropy, 8, "entropy") ||
        check_buffer(&classes, 8, "classes")) {
        goto done;
    }
    Py_ssize_t n_offsets = offsets.len / 8;
    const int64_t *off = (const int64_t *)offsets.buf;
    if (check_offsets(off, n_offsets, data.len)) {
        goto done;
    }
    Py_ssize_t n = n_offsets - 1;
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
    PyBuffer_Release(&data);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&class_of);
    PyBuffer_Release(&entropy);
    PyBuffer_Release(&classes);
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
    if (check_buffer(&offsets, 8, "offsets") || check_buffer(&weights, 4, "weights") ||
        check_buffer(&totals, 8, "totals") || check_buffer(&windows, 8, "windows")) {
        goto done;
    }
    Py_ssize_t n_offsets = offsets.len / 8;
    const int64_t *off = (const int64_t *)offsets.buf;
    if (check_offsets(off, n_offsets, data.len)) {
        goto done;
    }
    Py_ssize_t n = n_offsets - 1;
    Py_ssize_t n_weights = weights.len / 4;
    int bits = 0;
    while (((Py_ssize_t)1 << bits) < n_weights) {
        bits++;
    }
    if (bits < 1 || bits > 30 || ((Py_ssize_t)1 << bits) != n_weights) {
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
    PyBuffer_Release(&data);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&valid);
    PyBuffer_Release(&weights);
    PyBuffer_Release(&totals);
    PyBuffer_Release(&windows);
    return result;
}

/* ------------------------------------------------------------------------------------ */

static PyMethodDef kernel_methods[] = {
    {"wide_sums", wide_sums, METH_VARARGS,
     "Per row, the summed weights and the number of its distinct 3-5-gram buckets."},
    {"add_signed_windows", add_signed_windows, METH_VARARGS,
     "Add signed, scaled hashed k-byte windows of each row to its columns."},
    {"scatter_add", scatter_add, METH_VARARGS, "values[index[i]] += weights[i], in order."},
    {"byte_stats", byte_stats, METH_VARARGS, "Per row, byte entropy and byte-class counts."},
    {"framed_window_sums", framed_window_sums, METH_VARARGS,
     "Per framed row, the summed weights of its 1-4-gram buckets and their number."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef kernel_module = {
    PyModuleDef_HEAD_INIT, "_kernels",
    "Compiled per-byte loops of vigil's feature extractors (see _accel.py).", -1,
    kernel_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&kernel_module); }
