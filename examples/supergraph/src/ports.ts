/** The example's ports: the session API, the notes subgraph, the gateway. */
export const PORTS = { sessionApi: 4000, notes: 4001, gateway: 4002 } as const;

export const SUPERGRAPH_FILE = "examples/supergraph/supergraph.graphql";
