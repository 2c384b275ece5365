/* Compatibility with the un-orchestrator's NF-FG format (root
 * "forwarding-graph" with "VNFs", "end-points", "big-switch.flow-rules"),
 * for existing overarching orchestrators.  An NF-FG is translated into the
 * equivalent SF-FG graph on the way in and back on the way out, so the rest
 * of c-orch only ever sees 'struct graph'.
 *
 * Liberal in what it accepts (a graph-level "id", "ipv4" or "IPv4", GUI
 * positions, "vnf_template", port "mac"/"trusted", end-point "node-id");
 * every translated graph still goes through the full SF-FG validation. */
#ifndef CORCH_NFFG_H
#define CORCH_NFFG_H 1

#include <json-c/json.h>

#include "graph.h"

/* Translates an NF-FG document into a graph whose id is 'id' (the id in
 * the URL or the one generated for a POST; a "forwarding-graph.id" in the
 * body is ignored).  Paths in 'err' name NF-FG fields
 * ("forwarding-graph.big-switch.flow-rules[2].match.port_in"); errors are
 * those of graph_from_json(): -EINVAL (kind invalid) or -E2BIG (kind
 * too-large). */
int nffg_to_graph(json_object *root, const char *id,
                  const struct graph_limits *, struct graph **ret_graph,
                  struct corch_err *err);
/* Reads NF-FG text with graph_json_parse() (the SF-FG's reader: the same
 * JSON and string rules, paths naming NF-FG fields) and translates it with
 * nffg_to_graph(). */
int nffg_parse(const char *text, size_t len, unsigned int max_depth,
               const char *id, const struct graph_limits *,
               struct graph **ret_graph, struct corch_err *err);
/* The NF-FG form of a graph.  Caller owns the result. */
json_object *nffg_from_graph(const struct graph *);

#endif
