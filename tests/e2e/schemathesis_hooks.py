"""Schemathesis hooks for the schema-fuzzing suite (tests/e2e/tests/api/fuzzing.rs).

tus PATCH and creation-with-upload bodies are raw bytes (`application/offset+octet-stream`),
which schemathesis cannot make from a schema by itself.
"""

import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=256))
