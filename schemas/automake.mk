# JSON Schemas of the SF-FG, the SF template and the node description
# (the tests check the C validators against them).
EXTRA_DIST += \
	schemas/node-description.schema.json \
	schemas/sffg.schema.json \
	schemas/template.schema.json
