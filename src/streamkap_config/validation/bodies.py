"""The request bodies (pydantic models): what the API takes, with secrets masked.

``POST /sources`` takes :class:`CreateSourceRequest`, ``POST /destinations``
:class:`CreateDestinationRequest`, ``POST /transforms``
:class:`CreateTransformRequest`.

>>> body = CreateSourceRequest(name="orders", connector="kafkadirect",
...                            config={"topic.include.list.user.defined": "orders"})
>>> body.model_dump(mode="json", exclude_none=True)["created_from"]
'api'

``model_dump(mode="json", exclude_none=True)`` is exactly the body to send.
``repr()`` and ``str()`` mask secret values and values that came from the
environment; :meth:`Body.masked_dump` gives the body with those replaced by
``"********"`` for display. Building a body from a document (references
resolved, pipelines wired with ids) is :mod:`streamkap_config.deploy.payload`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from ..core.errors import ConfigValidationError
from ..core.issues import Issue

__all__ = [
    "MASK",
    "MODELS",
    "AutoDiscoveryTransform",
    "Body",
    "CreateDestinationRequest",
    "CreatePipelineRequest",
    "CreateSourceRequest",
    "CreateTransformRequest",
    "PipelineTransform",
    "make_body",
]

MASK = "********"
# Used only when the connector's definition is unknown: mask anything that looks secret.
_SECRET_WORDS = ("password", "secret", "private.key", "api.key", "token", "credential")


class Body(BaseModel):
    """What every request body shares: masking of secrets and of values from the environment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    KIND: ClassVar[str] = ""
    CODE_FIELD: ClassVar[str] = "connector"
    if TYPE_CHECKING:  # every model declares it, in its own place in the body
        config: dict[str, Any]

    _secret_keys: frozenset[str] | None = PrivateAttr(default=None)
    _masked_fields: frozenset[str] = PrivateAttr(default=frozenset())

    @property
    def code(self) -> str:
        """The connector code (the transform type of a transform)."""
        return str(getattr(self, self.CODE_FIELD))

    def with_secret_keys(self, keys: frozenset[str]) -> Body:
        """Record which config keys to mask (secrets, values from the environment).

        Returns self.
        """
        self._secret_keys = frozenset(keys)
        return self

    def with_masked_fields(self, fields: frozenset[str]) -> Body:
        """Record which top-level fields to mask (their values came from the environment).

        Returns self.
        """
        self._masked_fields = frozenset(fields)
        return self

    @property
    def secret_keys(self) -> frozenset[str]:
        if self._secret_keys is None:
            self._secret_keys = _secret_keys_for(self.KIND, self.code, self.config)
        return self._secret_keys

    def hidden_values(self) -> frozenset[str]:
        """Every text this body holds that output must never show: secret values and
        values from the environment (an error echoing the body is scrubbed of them)."""
        found: set[str] = set()

        def add(value: Any) -> None:
            if isinstance(value, list):
                for item in value:
                    add(item)
            elif value is not None:
                found.add(str(value))

        for key in self.secret_keys:
            add(self.config.get(key))
        for name in self._masked_fields:
            add(getattr(self, name, None))
        return frozenset(v for v in found if v)

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
        if not isinstance(other, Body):
            return NotImplemented
        return type(self) is type(other) and self.model_dump() == other.model_dump()

    __hash__ = BaseModel.__hash__

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name == "config":
                yield name, self.masked_config()
            else:
                yield name, (MASK if name in self._masked_fields else value)


def _secret_keys_for(kind: str, code: str, config: Mapping[str, Any]) -> frozenset[str]:
    from ..schemas.bundle import bundled_schemas

    schemas = bundled_schemas(kind)
    known = (
        {p.name for p in schemas[code].definition.properties if p.secret}
        if code in schemas
        else set()
    )
    guessed = {k for k in config if any(w in k.lower() for w in _SECRET_WORDS)}
    return frozenset(known | guessed)


_CreatedFrom = Literal["terraform", "web", "api"]


class CreateSourceRequest(Body):
    """The CreateSource body: ``name``, ``connector``, canonical ``config`` and options."""

    KIND: ClassVar[str] = "source"

    name: str = Field(min_length=1)
    connector: str = Field(min_length=1)
    config: dict[str, Any]
    created_from: _CreatedFrom = "api"
    desired_state: (
        Literal["Pending", "Active", "Paused", "Stopped", "Pending Update", "Pending Delete"] | None
    ) = None
    kc_cluster_id: str | None = Field(default=None, min_length=1)
    tags: list[str] | None = None


class CreateDestinationRequest(Body):
    """The CreateDestination body (``POST /destinations``)."""

    KIND: ClassVar[str] = "destination"

    name: str = Field(min_length=1)
    connector: str = Field(min_length=1)
    config: dict[str, Any]
    created_from: _CreatedFrom = "api"
    kc_cluster_id: str | None = Field(default=None, min_length=1)
    tags: list[str] | None = None


class CreateTransformRequest(Body):
    """The CreateTransform body (``POST /transforms``): the type is ``transform``."""

    KIND: ClassVar[str] = "transform"
    CODE_FIELD: ClassVar[str] = "transform"

    transform: str = Field(min_length=1)
    name: str = Field(min_length=1)
    config: dict[str, Any]
    tags: list[str] | None = None


class PipelineReference(BaseModel):
    """A document a pipeline joins, as the API takes it: its id, name and connector."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    connector: str = Field(min_length=1)


class PipelineSource(PipelineReference):
    """The pipeline's source and the topics it carries."""

    topics: list[str] = Field(min_length=1)


class PipelineTransform(BaseModel):
    """One (transform, topic) entry of a pipeline: the API takes one per topic.

    ``topic_id`` is the transform's own id for the topic once it has been
    deployed, else ``source_<source id>.<topic>``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    start_time: str | None = None
    topic_id: str = Field(min_length=1)
    topic: str = Field(min_length=1)


class AutoDiscoveryTransform(BaseModel):
    """A transform for the topics a pipeline discovers later: those matching ``regex``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    transform_id: str = Field(min_length=1)
    regex: str = Field(min_length=1)


class CreatePipelineRequest(BaseModel):
    """The CreatePipeline body (``POST /pipelines``). Nothing in it is secret."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    source: PipelineSource
    destination: PipelineReference
    transforms: list[PipelineTransform] = Field(default_factory=list)
    topic_auto_discovery_transforms: list[AutoDiscoveryTransform] = Field(default_factory=list)
    # Always written out: the API and the Terraform provider default it differently.
    snapshot_new_tables: bool
    tags: list[str] | None = None

    def masked_dump(self) -> dict[str, Any]:
        """The body as printed (a pipeline holds no secret)."""
        return self.model_dump(mode="json", exclude_none=True)


MODELS: dict[str, type[Body]] = {
    "source": CreateSourceRequest,
    "destination": CreateDestinationRequest,
    "transform": CreateTransformRequest,
}


def make_body(kind: str, body: Mapping[str, Any], secret_keys: frozenset[str]) -> Body:
    """The model of a checked body of ``kind``. Its errors never carry input values."""
    model = MODELS[kind]
    try:
        return model.model_validate(body).with_secret_keys(secret_keys)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        text = f"(document): not a valid {model.__name__.removesuffix('Request')} body: {fields}"
        raise ConfigValidationError([Issue("envelope", "error", text)]) from None
