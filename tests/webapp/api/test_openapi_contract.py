"""The API against its own OpenAPI document (schemathesis), on SQLite and PostgreSQL:
whatever schemathesis sends, no 500, and every response matches the document.

Few examples per operation, so each engine takes about a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               positive_data_acceptance,
                                               response_headers_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
EXAMPLES = 25


@pytest.mark.slow
def test_every_operation_keeps_to_the_document(app, world, make_token):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {make_token(scope='write', wards=('a', 'b'))}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 11
    # Valid requests, and requests that break the document (hostile input): both modes.
    for operation, mode in [(o, m) for o in operations
                            for m in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def keeps_to_the_document(case):
            # A valid read is answered (2xx, or 404 for an id that does not exist): the
            # document promises nothing a read could still refuse.
            reads = mode == GenerationMode.POSITIVE and case.method == "GET"
            case.call_and_validate(headers=headers, checks=CHECKS + (
                [positive_data_acceptance] if reads else []))

        keeps_to_the_document()
