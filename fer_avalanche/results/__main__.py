"""``python -m fer_avalanche.results > docs/results.schema.json``: print the generated schema."""

from fer_avalanche.results.schema import schema_text

print(schema_text(), end="")
