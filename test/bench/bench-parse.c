/* bench-parse: parse + validate time of a big SF-FG.
 *
 * Generates a graph of 1000 SFs (2 ports each), 16 SAPs and 5000 flowrules
 * whose matches cover every field family (IPv4/IPv6 with L4 ports, VLANs,
 * MACs, ICMP, hex and decimal-string numbers), then times graph_parse()
 * over 50 runs and prints min / p50 / max against the 20 ms target.  Like
 * every benchmark it prints figures and never fails on one; it fails only
 * if the generated graph is rejected. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph.h"

#define N_SFS 1000
#define N_SAPS 16
#define N_RULES 5000
#define N_RUNS 50
#define TARGET_MS 20.0

struct buf {
    char *s;                    /* The text so far. */
    size_t len;                 /* Its length. */
    size_t cap;                 /* Allocated bytes. */
};

static void buf_add(struct buf *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
buf_add(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if ((size_t) n < b->cap - b->len)
            break;
        b->cap = b->cap * 2 + (size_t) n;
        b->s = xrealloc(b->s, b->cap);
    }
    b->len += (size_t) n;
}

/* A port reference chosen from 'k': an SF port most of the time. */
static void
add_ref(struct buf *b, unsigned int k)
{
    if (k % 10 == 0)
        buf_add(b, "\"service-access-point:sap-%u\"", (k / 10) % N_SAPS);
    else
        buf_add(b, "\"sf:vnf:%u:inout:%u\"", (k / 2) % N_SFS, k % 2);
}

static char *
generate(size_t *ret_len)
{
    struct buf b = { .s = xmalloc(1 << 20), .cap = 1 << 20 };

    buf_add(&b, "{\"sffg\":{\"id\":\"bench\",\"name\":\"generated\",\"SFs\":[");
    for (unsigned int i = 0; i < N_SFS; i++)
        buf_add(&b, "%s{\"id\":\"vnf:%u\",\"name\":\"%s\",\"ports\":["
                "{\"id\":\"inout:0\",\"name\":\"lan\"},"
                "{\"id\":\"inout:1\",\"name\":\"wan\"}]}",
                i ? "," : "", i, i % 3 ? "firewall" : "nat");
    buf_add(&b, "],\"saps\":[");
    for (unsigned int i = 0; i < N_SAPS; i++) {
        if (i % 2)
            buf_add(&b, "%s{\"id\":\"sap-%u\",\"type\":\"vlan\",\"vlan\":"
                    "{\"vlan-id\":\"%u\",\"if-name\":\"eth1\"}}",
                    i ? "," : "", i, 100 + i);
        else
            buf_add(&b, "%s{\"id\":\"sap-%u\",\"type\":\"interface\","
                    "\"interface\":{\"if-name\":\"eth%u\"}}",
                    i ? "," : "", i, 10 + i);
    }
    buf_add(&b, "],\"flowrules\":[");
    for (unsigned int i = 0; i < N_RULES; i++) {
        unsigned int in = i * 7 + 1, out = i * 7 + 4;
        buf_add(&b, "%s{\"id\":\"rule-%u\",\"priority\":%u,\"match\":"
                "{\"port_in\":", i ? "," : "", i, i % 65536);
        add_ref(&b, in);
        switch (i % 6) {
        case 0:
            buf_add(&b, ",\"ether_type\":\"0x0800\",\"source_ip\":"
                    "\"10.%u.%u.0/24\",\"protocol\":6,\"dest_port\":%u",
                    (i >> 8) & 255, i & 255, 1 + i % 65535);
            break;
        case 1:
            buf_add(&b, ",\"vlan_id\":%u,\"vlan_pcp\":\"%u\"",
                    1 + i % 4094, i % 8);
            break;
        case 2:
            buf_add(&b, ",\"source_mac\":\"02:00:00:00:%02x:%02x\","
                    "\"dest_mac\":\"02:00:00:01:%02x:%02x\"",
                    (i >> 8) & 255, i & 255, (i >> 8) & 255, i & 255);
            break;
        case 3:
            buf_add(&b, ",\"dest_ip\":\"2001:db8:%x::/64\",\"protocol\":17,"
                    "\"source_port\":\"0x%x\"", i, 1 + i % 65535);
            break;
        case 4:
            buf_add(&b, ",\"protocol\":1,\"icmp_type\":8,\"icmp_code\":0");
            break;
        default:
            break;
        }
        buf_add(&b, "},\"actions\":{\"output_to_port\":");
        if (out % N_SFS == in % N_SFS)
            out++;
        add_ref(&b, out);
        if (i % 6 == 1)
            buf_add(&b, ",\"pop_vlan\":true");
        buf_add(&b, "}}");
    }
    buf_add(&b, "]}}");
    *ret_len = b.len;
    return b.s;
}

/* CPU time of this process: unlike wall time, it does not count the
 * time other processes on a loaded (CI, 2-core) machine take from us. */
static uint64_t
cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

int
main(void)
{
    struct graph_limits lim = { .max_sfs = 10000, .max_flowrules = 100000,
                                .max_saps = 1000 };
    double ms[N_RUNS], cpu[N_RUNS];
    size_t len;
    _cleanup_free_ char *text = generate(&len);

    for (int run = 0; run < N_RUNS; run++) {
        struct corch_err err = { .path = "", .msg = "" };
        struct graph *g = NULL;
        uint64_t t0 = time_ns(), c0 = cpu_ns();
        int r = graph_parse(text, len, 64, &lim, &g, &err);
        uint64_t t1 = time_ns(), c1 = cpu_ns();
        if (r < 0) {
            fprintf(stderr, "bench-parse: generated graph rejected at %s: "
                    "%s\n", err.path, err.msg);
            return 1;
        }
        if (run == 0)
            printf("bench-parse: %zu bytes, %zu SFs, %zu SAPs, %zu rules\n",
                   len, g->n_sfs, g->n_saps, g->n_flowrules);
        graph_free(g);
        ms[run] = (double) (t1 - t0) / 1e6;
        cpu[run] = (double) (c1 - c0) / 1e6;
    }
    qsort(ms, N_RUNS, sizeof *ms, cmp_double);
    qsort(cpu, N_RUNS, sizeof *cpu, cmp_double);
    printf("bench-parse: graph_parse (parse + validate) over %d runs: "
           "min %.2f ms, p50 %.2f ms, max %.2f ms (target <= %.0f ms: %s)\n",
           N_RUNS, ms[0], ms[N_RUNS / 2], ms[N_RUNS - 1], TARGET_MS,
           ms[N_RUNS / 2] <= TARGET_MS ? "met" : "NOT met");
    /* Where the time goes: json-c's tokenizer, our validation, json-c's
     * tree release (each the p50 CPU time of N_RUNS runs). */
    double tok[N_RUNS], val[N_RUNS], put[N_RUNS];
    for (int run = 0; run < N_RUNS; run++) {
        struct corch_err err = { .path = "", .msg = "" };
        struct graph *g = NULL;
        uint64_t c0 = cpu_ns();
        struct json_tokener *tk = json_tokener_new_ex(64);
        json_object *root = json_tokener_parse_ex(tk, text, (int) len);
        json_tokener_free(tk);
        uint64_t c1 = cpu_ns();
        int r = graph_from_json(root, &lim, &g, &err);
        uint64_t c2 = cpu_ns();
        json_object_put(root);
        uint64_t c3 = cpu_ns();
        if (r < 0)
            return 1;
        graph_free(g);
        tok[run] = (double) (c1 - c0) / 1e6;
        val[run] = (double) (c2 - c1) / 1e6;
        put[run] = (double) (c3 - c2) / 1e6;
    }
    qsort(tok, N_RUNS, sizeof *tok, cmp_double);
    qsort(val, N_RUNS, sizeof *val, cmp_double);
    qsort(put, N_RUNS, sizeof *put, cmp_double);
    printf("bench-parse: p50 CPU split: json-c tokenizer %.2f ms, "
           "validation %.2f ms, json-c tree free %.2f ms\n",
           tok[N_RUNS / 2], val[N_RUNS / 2], put[N_RUNS / 2]);
    printf("bench-parse: CPU time over %d runs: min %.2f ms, p50 %.2f ms, "
           "max %.2f ms (target <= %.0f ms: %s)\n", N_RUNS, cpu[0],
           cpu[N_RUNS / 2], cpu[N_RUNS - 1], TARGET_MS,
           cpu[N_RUNS / 2] <= TARGET_MS ? "met" : "NOT met");
    return 0;
}
