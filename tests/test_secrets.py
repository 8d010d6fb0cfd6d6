"""No secret, and no value taken from the environment, in any repr, str, message or output.

The law is checked on every bundled connector through the file path (YAML text
-> LoadedFile -> documents -> results -> issues -> payload or exception).
"""

from __future__ import annotations

import json

import yaml
from hypothesis import given
from hypothesis import strategies as st

from mutations import mutations
from strategies import SECRET_PREFIX, valid_configs
from streamkap_config import (
    KINDS,
    ConfigValidationError,
    build_payload,
    bundled_schemas,
    validate_document,
)
from streamkap_config.loaders import load_text

REAL = [(kind, code) for kind in KINDS for code in sorted(bundled_schemas(kind))]
ENV_VALUE = "from-the-environment-7f3a"


def texts_of(*objects: object) -> list[str]:
    return [t for o in objects for t in (repr(o), str(o))]


@given(st.data(), st.sampled_from(REAL))
def test_no_secret_or_environment_value_in_any_public_object(data, real):
    kind, code = real
    defn = bundled_schemas(kind)[code].definition
    gen = data.draw(valid_configs(defn))
    config = dict(gen.config)
    secrets = []
    for prop in defn.properties:
        if prop.secret and prop.user_defined and not prop.readonly:
            config[prop.name] = SECRET_PREFIX + prop.name.replace(".", "-")
            secrets.append(config[prop.name])
    # A non-secret string key read from the environment: masked like a secret.
    plain = [p for p in defn.properties if p.kind == "string" and not p.secret and p.user_defined]
    if plain:
        config[data.draw(st.sampled_from(plain)).name] = "${env:SOME_VALUE}"
    if data.draw(st.booleans()):
        config = data.draw(mutations(type(gen)(defn, config))).config
    body = {"kind": kind, "name": "n", KINDS[kind].code_field: code, "config": config}
    text = yaml.safe_dump(body, sort_keys=False)
    loaded = load_text(text, "f.yaml")
    checked = [loaded, *loaded.sources, *loaded.issues]
    for doc in loaded.sources:
        result = validate_document(doc, no_plaintext_secrets=data.draw(st.booleans()))
        checked += [result, *result.issues]
        try:
            body = build_payload(doc, environ={"SOME_VALUE": ENV_VALUE})
        except ConfigValidationError as exc:
            checked += [exc, *exc.issues]
        else:
            checked += [body]
            shown = json.dumps(body.masked_dump())
            assert all(s not in shown for s in [*secrets, ENV_VALUE])
            assert ENV_VALUE not in repr(body) and ENV_VALUE not in str(body)
    for text in texts_of(*checked):
        for secret in secrets:
            assert secret not in text
        assert ENV_VALUE not in text
