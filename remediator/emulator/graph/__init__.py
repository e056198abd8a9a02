"""Azure Resource Graph: the KQL subset (``kql.lark``), its evaluator and the query route."""
