"""One pass over a config mapping with a connector's compiled checks.

Every key is resolved (nested, dotted, suffix-less, Terraform and alias
spellings), checked, and normalised; then required, conditional and inactive
keys. Issues go to the document's collector with their positions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.document import Tokens
from ..core.issues import Collector, pointer_label, to_pointer
from ..core.refs import has_reference, literal_text, unclosed_reference
from .checks import Checker
from .keys import Ambiguous, flatten

if TYPE_CHECKING:
    from .result import Mode

__all__ = ["check_config"]


def _left_in_place(value: str) -> bool:
    from ..schemas.starter import PLACEHOLDER

    return PLACEHOLDER.fullmatch(value) is not None


def check_config(
    run: Collector,
    checker: Checker,
    config: Mapping[str, Any],
    base: Tokens,
    mode: Mode,
    strict: bool,
    no_plaintext_secrets: bool,
) -> tuple[dict[str, Any], dict[str, Tokens]]:
    """Check every key. Returns the canonical normalised config of the keys that could
    be read (without those in error: what checks of one key need while others fail,
    and the body once no issue is an error) and where each canonical key was written."""
    plan = checker.plan
    out: dict[str, Any] = {}
    given: dict[str, Any] = {}
    where: dict[str, Tokens] = {}
    for flat, tokens, value in flatten(config, checker.index, base):
        step = plan.get(flat)
        if step is None:
            close = checker.index.suggest(flat)
            hint = f"did you mean {', '.join(close)}?" if close else None
            run.add("unknown-key", "error", tokens, "unknown key", hint=hint, at_key=True)
            continue
        if isinstance(step, Ambiguous):
            run.add(
                "ambiguous-key",
                "error",
                tokens,
                f"matches several keys: {', '.join(step.candidates)}",
                hint="write the full API name",
                at_key=True,
            )
            continue
        key, check, secret, special = step
        if key in where:
            first = where[key]
            run.add(
                "duplicate-key",
                "error",
                tokens,
                f"sets {key} again (first set at {pointer_label(first)}, "
                f"{to_pointer(run.base + first)})",
                key=key,
                hint="keep one of the two",
                at_key=True,
            )
            continue
        where[key] = tokens
        given[key] = value
        if special and _special(run, checker, key, tokens, mode):
            continue
        kind = value.__class__
        if kind is str and value[:1] == "<" and _left_in_place(value):
            run.add(
                "type",
                "error",
                tokens,
                f"{value} is a placeholder of `streamkap-config new`",
                key=key,
                hint="write the value itself",
            )
            continue
        if kind is str and "${" in value and (broken := unclosed_reference(value)):
            run.add(
                "unresolved-variable" if broken.startswith("${var:") else "unresolved-secret",
                "error",
                tokens,
                f"the reference {broken}... is not closed",
                key=key,
                hint="end it with }: ${env:NAME} (a literal ${ is written $${)",
            )
            continue
        if ((kind is str and "${" in value) or kind is list) and has_reference(value):
            # Checked once the reference is resolved, when the payload is built.
            normalised = value
        else:
            normalised, problem = check(value, strict)
            if problem is not None:
                pcode, text, hint = problem
                run.add(pcode, "error", tokens, text, key=key, hint=hint, secret=secret)
                continue
        if secret and value.__class__ is str and literal_text(value):
            run.add(
                "plaintext-secret",
                "error" if no_plaintext_secrets else "warning",
                tokens,
                "secret written in plain text",
                key=key,
                hint="use ${env:NAME} and set NAME in the environment",
            )
        out[key] = given[key] = normalised

    # Conditions see user values over defaults (a value that failed its check as written).
    effective = {**checker.defaults, **given} if checker.conditioned else {}
    if mode == "create":
        for prop in checker.required:
            if prop.name in out or prop.name in where:
                continue
            if prop.conditions and not all(
                c.holds(effective.get(c.config)) for c in prop.conditions
            ):
                continue
            extra = ""
            if prop.conditions:
                extra = (
                    " (required when " + " and ".join(c.describe() for c in prop.conditions) + ")"
                )
            tf = f"; Terraform name {prop.terraform_attribute}" if prop.terraform_attribute else ""
            run.add(
                "required",
                "error",
                base,
                f"missing required key {prop.name}{extra}",
                key=prop.name,
                hint=f"{prop.display_name}{tf}",
                at_key=True,
                label=base or ("config",),
            )
    for prop in checker.conditioned:
        if prop.name not in out:
            continue
        unmet = [c for c in prop.conditions if not c.holds(effective.get(c.config))]
        if unmet:
            run.add(
                "inactive-key",
                "warning",
                where[prop.name],
                f"{prop.name} only applies when "
                + " and ".join(c.describe() for c in prop.conditions),
                key=prop.name,
                hint="remove it, or set " + " and ".join(c.describe() for c in unmet),
                at_key=True,
            )
    return out, where


def _special(run: Collector, checker: Checker, key: str, tokens: Tokens, mode: Mode) -> bool:
    """Not user-settable, read-only and set-once keys. True when the key is rejected."""
    prop = checker.definition.get(key)
    assert prop is not None
    if not prop.user_defined:
        run.add(
            "not-user-settable",
            "error",
            tokens,
            f"{key} is set by Streamkap and cannot be set here",
            key=key,
            hint="remove it",
            at_key=True,
        )
        return True
    if prop.readonly:
        run.add(
            "not-user-settable",
            "warning",
            tokens,
            f"{key} is read-only: the server fills it in and ignores this value",
            key=key,
            hint="remove it",
            at_key=True,
        )
        return True
    if mode == "update" and prop.set_once:
        run.add(
            "set-once",
            "error",
            tokens,
            f"{key} can only be set when the {checker.definition.kind} is created",
            key=key,
            at_key=True,
        )
        return True
    return False
