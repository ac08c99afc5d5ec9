"""Make `pants lint` fail on visibility-rule violations.

Pants 2.17 enforces `__dependencies_rules__`/`__dependents_rules__` whenever a goal computes
dependencies (test, check, package, ...), but `lint` never does, so a forbidden import between
ADE's layers would pass `pants lint ::`. This linter resolves each target's direct dependencies,
which makes the visibility backend judge every edge, and reports Pants' own DENY message.
Pants 2.18 ships the same check; delete this plugin after upgrading.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pants.core.goals.lint import LintResult, LintTargetsRequest
from pants.core.util_rules.partitions import PartitionerType
from pants.engine.addresses import Addresses
from pants.engine.internals.dep_rules import DependencyRuleActionDeniedError
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import Dependencies, DependenciesRequest, FieldSet
from pants.option.option_types import SkipOption
from pants.option.subsystem import Subsystem


class VisibilityLintSubsystem(Subsystem):
    options_scope = "visibility-lint"
    name = "visibility"
    help = "Reports dependency edges that the BUILD files' visibility rules deny."

    skip = SkipOption("lint")


@dataclass(frozen=True)
class VisibilityFieldSet(FieldSet):
    required_fields = (Dependencies,)

    dependencies: Dependencies


class VisibilityLintRequest(LintTargetsRequest):
    field_set_type = VisibilityFieldSet
    # A Subsystem with a SkipOption is what the SkippableSubsystem protocol means; mypy cannot
    # see through the option descriptor.
    tool_subsystem = VisibilityLintSubsystem  # type: ignore[assignment]
    partitioner_type = PartitionerType.DEFAULT_SINGLE_PARTITION


@rule(desc="Check visibility rules")
async def lint_visibility(
    request: VisibilityLintRequest.Batch[VisibilityFieldSet, Any],
) -> LintResult:
    violations: list[str] = []
    for field_set in request.elements:
        try:
            await Get(Addresses, DependenciesRequest(field_set.dependencies))
        except DependencyRuleActionDeniedError as error:
            violations.append(str(error))
    return LintResult(
        exit_code=1 if violations else 0,
        stdout="\n\n".join(violations),
        stderr="",
        linter_name=request.tool_name,
        partition_description=request.partition_metadata.description,
    )


def rules() -> Iterable[Any]:
    return [*collect_rules(), *VisibilityLintRequest.rules()]
