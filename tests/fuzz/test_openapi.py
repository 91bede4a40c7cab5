"""schemathesis against the operator API's own OpenAPI document (``/api/v1/openapi.json``),
in-process: whatever the document allows (positive cases) and what it does not (negative
cases), no answer is a 5xx; every status answered is one the document lists, answers
conform to the schemas it gives and carry the content type and headers it names, an
unsupported method gets 405, and what the document calls invalid is refused (4xx)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import schemathesis
from hypothesis import given
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from hotline.app import Node, federation_app
from tests.fuzz.conftest import examples

pytestmark = pytest.mark.slow  # many examples each: make test runs them, test-fast not


@pytest.fixture(scope="module")
def api_schema(lab: Node) -> Any:
    lab.directory.add_principal("US/ADMIN", "Node admin", ["admin", "watch_officer"])
    lab.settings = dataclasses.replace(lab.settings, ingest_token="fuzz")
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", federation_app(lab))


@pytest.fixture(scope="module")
def bearer(lab: Node) -> dict[str, str]:
    return {"Authorization": f"Bearer {lab.accounts.create_token('US/ADMIN')}"}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_holds_to_the_document(
    api_schema: Any, bearer: dict[str, str], mode: GenerationMode
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20  # the whole document, not a part of it
    called: set[str] = set()
    checks = [
        not_a_server_error,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
        unsupported_method,
        missing_required_header,
    ]
    if mode is GenerationMode.NEGATIVE:
        checks.append(negative_data_rejection)
    for operation in operations:

        @examples(25)
        @given(case=operation.as_strategy(generation_mode=mode))
        def answers(case: Any) -> None:
            called.add(case.operation.label)
            case.call_and_validate(headers=bearer, checks=checks)

        try:
            answers()
        except Unsatisfiable:  # nothing of it can be made invalid: no parameters, no body
            assert mode is GenerationMode.NEGATIVE
    assert len(called) > (20 if mode is GenerationMode.POSITIVE else 10)
