"""The OpenAPI document's links tell the truth: Schemathesis follows them as a state machine.

What one response created, the next request reads, changes or deletes, with every check of
test_contract.py on each call. How many scenarios and steps: see tests/api/contract.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.api.contract import (
    BACKENDS,
    SCENARIOS,
    STEPS,
    api_on,
    contract_schema,
    fresh_idempotency_keys,
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_linked_operations_keep_the_contract(request: pytest.FixtureRequest, backend: str) -> None:
    """Create documents, runs and configurations, then follow the document's links to read,
    cancel, download, activate, archive and delete what was created. The SSE stream is left
    out: it follows a queued run until the run ends, and no worker runs here."""
    api_schema = contract_schema(api_on(request, backend))
    base = api_schema.exclude(operation_id="stream_events").as_state_machine()

    class Machine(base):  # type: ignore[misc,valid-type]
        def before_call(self, case: schemathesis.Case[Any]) -> None:
            fresh_idempotency_keys(None, case)  # hooks on the schema do not reach these cases

    # Valid configurations are drawn by filtering (consistent_configurations): with fresh
    # random inputs most generated specs break a rule across fields, which Hypothesis flags.
    Machine.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            suppress_health_check=[HealthCheck.filter_too_much],
        )
    )
