"""plans.yaml -> the core model: YAML nodes, field readers, the schema walk, agency lookup."""
