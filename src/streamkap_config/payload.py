"""The ``POST /sources`` (CreateSource) request body as a pydantic model.

>>> body = CreateSourceRequest(name="orders", connector="kafkadirect",
...                            config={"topic.include.list.user.defined": "orders"})
>>> body.model_dump(mode="json", exclude_none=True)["created_from"]
'api'

``model_dump(mode="json", exclude_none=True)`` is exactly the body to send.
``repr()`` and ``str()`` mask secret values and values that came from the
environment; :meth:`masked_dump` gives the body with those replaced by
``"********"`` for display.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

__all__ = ["MASK", "CreateSourceRequest"]

MASK = "********"
# Used only when the connector's definition is unknown: mask anything that looks secret.
_SECRET_WORDS = ("password", "secret", "private.key", "api.key", "token", "credential")


def _secret_keys_for(connector: str, config: dict[str, Any]) -> frozenset[str]:
    from .bundle import bundled_schemas

    schemas = bundled_schemas()
    if connector in schemas:
        props = schemas[connector].definition.properties
        known = {p.name for p in props if p.secret}
    else:
        known = set()
    guessed = {k for k in config if any(w in k.lower() for w in _SECRET_WORDS)}
    return frozenset(known | guessed)


class CreateSourceRequest(BaseModel):
    """The CreateSource body: ``name``, ``connector``, canonical ``config`` and options."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    connector: str = Field(min_length=1)
    config: dict[str, Any]
    created_from: Literal["terraform", "web", "api"] = "api"
    desired_state: (
        Literal["Pending", "Active", "Paused", "Stopped", "Pending Update", "Pending Delete"] | None
    ) = None
    kc_cluster_id: str | None = None
    tags: list[str] | None = None

    _secret_keys: frozenset[str] | None = PrivateAttr(default=None)
    _masked_fields: frozenset[str] = PrivateAttr(default=frozenset())

    def with_secret_keys(self, keys: frozenset[str]) -> CreateSourceRequest:
        """Record which config keys to mask (secrets, values from the environment).

        Returns self.
        """
        self._secret_keys = frozenset(keys)
        return self

    def with_masked_fields(self, fields: frozenset[str]) -> CreateSourceRequest:
        """Record which top-level fields to mask (their values came from the environment).

        Returns self.
        """
        self._masked_fields = frozenset(fields)
        return self

    @property
    def secret_keys(self) -> frozenset[str]:
        if self._secret_keys is None:
            self._secret_keys = _secret_keys_for(self.connector, self.config)
        return self._secret_keys

    def masked_config(self) -> dict[str, Any]:
        secrets = self.secret_keys
        return {k: (MASK if k in secrets else v) for k, v in self.config.items()}

    def masked_dump(self) -> dict[str, Any]:
        """The body with every secret value replaced by ``"********"``."""
        body = self.model_dump(mode="json", exclude_none=True)
        body["config"] = self.masked_config()
        for name in self._masked_fields & body.keys():
            body[name] = MASK
        return body

    def __eq__(self, other: object) -> bool:
        # Which keys are masked is presentation, not content.
        if not isinstance(other, CreateSourceRequest):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = BaseModel.__hash__

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name == "config":
                yield name, self.masked_config()
            else:
                yield name, (MASK if name in self._masked_fields else value)
