"""Settings from ``CM_*`` environment variables (and a ``.env`` file); one data folder holds
all local state.

Every external part is optional: an unset ``CM_DATABASE_URL`` / ``CM_REDIS_URL`` means "start the
embedded server in the data folder"; an unset ``CM_S3_BUCKET`` means "objects in a local folder".
"""

from __future__ import annotations

import functools
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.discovery import LINK_IN_BIO_HOSTS
from core.errors import ConfigurationError

ENV_PREFIX = "CM_"
IPNetwork = IPv4Network | IPv6Network


def default_data_dir() -> Path:
    return platformdirs.user_data_path("campaign-manager", appauthor=False)


class Settings(BaseSettings):
    """Everything the service can be told; each field is ``CM_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    # The built web app served at / (unset: ui/dist in the project, which `make run` builds).
    ui_dist_dir: Path | None = None

    database_url: str | None = None
    # A read replica (or a pooler in front of several) for the cached list and detail reads;
    # unset, they read from CM_DATABASE_URL. It may trail the primary by its replication lag.
    database_read_url: str | None = None
    database_pool_size: int = Field(default=10, ge=1, le=200)
    redis_url: str | None = None

    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None

    # The relay for mail the service sends itself (invitations): smtp://user:password@host:587
    # ?tls=starttls&from=noreply@example.com (smtps:// for TLS from the start). Unset: the
    # workspace's outbox folder. Outreach goes through the workspace's own mailboxes.
    smtp_url: str | None = None
    # A mailbox's host is typed by a user and connected to by the service. Link-local addresses
    # (cloud metadata) are always refused; loopback and private networks are allowed by default
    # because a self-hosted install usually relays through a local or LAN server. Turn it off
    # where workspaces are run for strangers.
    smtp_allow_private_hosts: bool = True
    # Bound on one SMTP exchange (connect, TLS, auth) as a whole, and on each command after.
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # With no mailbox, an outreach's mail goes to the outbox folder in the data directory; off,
    # an outreach must name a mailbox to launch.
    outbox_enabled: bool = True
    # Sender actors in the cluster, and connections each keeps open per mailbox.
    sender_actors: int = Field(default=2, ge=1, le=64)
    smtp_connections: int = Field(default=2, ge=1, le=32)
    # Messages an outreach actor claims and hands to a sender at once (at most that many can
    # end ``unknown`` when a sender dies mid-batch), and batches in flight per outreach.
    send_batch_size: int = Field(default=20, ge=1, le=500)
    send_batches_in_flight: int = Field(default=4, ge=1, le=64)
    # First wait before a message refused with a 4xx is tried again (doubled each time).
    smtp_retry_seconds: float = Field(default=300.0, gt=0, le=86_400)
    # How often the scheduler moves campaigns on their dates and checks every live outreach
    # has its actor running.
    scheduler_tick_seconds: float = Field(default=15.0, gt=0, le=3_600)

    # Signs access tokens. Unset: a random key is created once in the data folder and reused.
    secret_key: SecretStr | None = None
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=86_400)
    refresh_token_ttl_days: int = Field(default=30, ge=1, le=365)
    # Limits answered with 429 and Retry-After, counted in Redis across all replicas.
    login_attempts_per_ip: int = Field(default=30, ge=1)
    login_attempts_per_account: int = Field(default=10, ge=1)
    login_window_seconds: int = Field(default=300, ge=1)
    # Only failed logins count. login_attempts_per_account counts one account's failures from
    # one address, so a stranger cannot lock the owner out; this ceiling counts them from every
    # address, against guessing spread over many addresses.
    login_failures_per_account_total: int = Field(default=100, ge=1)
    # New accounts per client address per window (each costs an Argon2 hash and a workspace).
    registrations_per_ip: int = Field(default=10, ge=1)
    registration_window_seconds: int = Field(default=3600, ge=1)
    # Reverse proxies (addresses or CIDR networks, comma-separated) whose X-Forwarded-For is
    # believed; empty: the connecting peer is the client, whatever the header says.
    trusted_proxies: str = ""
    # Other origins (scheme://host[:port], comma-separated) whose pages may call the API from a
    # browser (CORS). Empty: same-origin only, which is all the web app served here needs.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    requests_per_token: int = Field(default=3000, ge=1)
    requests_window_seconds: int = Field(default=60, ge=1)
    # Per client address per minute, on the public links in sent mail (no token to count by):
    # unsubscribe POSTs beyond it are a 429; clicks beyond it still redirect, unrecorded.
    unsubscribes_per_ip: int = Field(default=60, ge=1)
    recorded_clicks_per_ip: int = Field(default=120, ge=1)
    # Wall clock for rendering one email template (preview, save check, sending): a template is
    # user-written code, and one that runs longer is refused (see core/template_runner.py).
    template_render_seconds: float = Field(default=2.0, gt=0, le=60)
    # An open live socket re-reads its membership this often, as a backstop for access changes
    # that publish no event (a user or workspace deleted outside the API).
    live_recheck_seconds: float = Field(default=30, ge=1, le=3600)

    # Request bodies are refused with 413 above these sizes before any route reads them, so one
    # client cannot make a replica buffer gigabytes; only routes that take files (the CSV imports)
    # accept multipart bodies up to the upload size, which sits above the importer's own 50 MiB
    # file limit so that a file just over that gets the importer's 422 naming the file.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)

    ray_address: str | None = None
    # The Jobs API of the cluster at ray_address (`discover` submits there); unset: port 8265
    # on ray_address's host.
    ray_dashboard_url: str | None = None
    ray_num_cpus: int | None = Field(default=None, ge=1)
    ray_object_store_mb: int = Field(default=512, ge=78)
    serve_replicas: int = Field(default=1, ge=1, le=64)
    # Above serve_replicas, Serve autoscales between the two on in-flight requests.
    serve_max_replicas: int | None = Field(default=None, ge=1, le=64)
    serve_replica_cpus: float = Field(default=0.5, gt=0, le=64)
    # "haproxy": Serve's HAProxy ingress instead of its Python proxy (about 2x the throughput
    # here, see the README); its stats and metrics ports bind all interfaces whatever CM_HOST is.
    serve_proxy: Literal["python", "haproxy"] = "python"
    # Serve's default of 5 queues requests at the proxy and collapses throughput under load.
    serve_max_ongoing_requests: int = Field(default=100, ge=1, le=10_000)
    # Discovery. Every base URL is a setting so any SoundCloud-shaped site can be the target
    # (the project's fixture site in tests, benchmarks and `campaign-manager demo`).
    soundcloud_web_url: str = "https://soundcloud.com"
    soundcloud_api_url: str = "https://api-v2.soundcloud.com"
    # Hosts whose pages are fetched as link-in-bio pages (comma-separated host or host:port).
    soundcloud_link_in_bio_hosts: str = ",".join(LINK_IN_BIO_HOSTS)
    # A fixed API client id; unset, it is found on the home page or in its JS bundles.
    soundcloud_client_id: str | None = None
    # Requests per second per host, across the whole cluster; 0 lifts the limit. Public clients
    # report about 600 requests per 10 minutes per client id as a pace SoundCloud accepts.
    soundcloud_requests_per_second: float = Field(default=1.0, ge=0, le=10_000)
    link_in_bio_requests_per_second: float = Field(default=1.0, ge=0, le=10_000)
    # The shared scraper pool: this many actors always (started with the service), grown up to
    # scraper_actors_max while jobs want more; an extra actor idle this long ends itself.
    scraper_actors: int = Field(default=2, ge=1, le=64)
    scraper_actors_max: int = Field(default=4, ge=1, le=256)
    scraper_idle_seconds: float = Field(default=300.0, gt=0, le=86_400)
    # Concurrent requests in flight per scraper actor (pacing still decides when each leaves).
    scraper_concurrency: int = Field(default=8, ge=1, le=256)
    # "obey": pages a host's robots.txt disallows to our user agent are not fetched (skipped and
    # counted); "ignore" fetches them anyway. robots.txt itself is read once per host and kept.
    scraper_robots_txt: Literal["obey", "ignore"] = "obey"
    # A successful answer is reused for this many seconds (a fresh profile read twice costs one
    # request); 0 turns the cache off.
    scraper_cache_seconds: float = Field(default=300.0, ge=0, le=86_400)
    # Tracked artists (in a live campaign, or watched) are re-read when their numbers are older
    # than this; the refresh takes only request slots no discovery job is waiting for.
    refresh_interval_hours: float = Field(default=24.0, gt=0, le=24 * 365)
    # At most this share of each host's rate goes to refreshing, even when jobs leave more.
    refresh_rate_share: float = Field(default=0.5, gt=0, le=1)
    # Bounds that keep one job from holding the cluster. An artist's link-in-bio pages get this
    # many seconds in all: an optional host that is slow or dead must not stall the walk.
    link_in_bio_budget_seconds: float = Field(default=20.0, gt=0, le=300)
    # Queued or running jobs per workspace (each holds an actor and its scrapers' memory).
    discovery_jobs_per_workspace: int = Field(default=2, ge=1, le=100)
    # A job still running after this many seconds ends failed, keeping what it kept.
    discovery_job_max_seconds: float = Field(default=86_400.0, gt=0)
    # Link-in-bio pages that show no links over plain HTTP are rendered here; "" turns it off.
    chromium_path: str = "/usr/bin/chromium"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Tracing (docs/observability.md): spans go to this OTLP/HTTP collector
    # (http://collector:4318); unset, to <data_dir>/traces/spans.jsonl on each machine.
    otlp_endpoint: str | None = None
    # Share of traces kept (decided where a trace starts; actor calls follow their caller).
    trace_sample_ratio: float = Field(default=1.0, ge=0, le=1)
    # The bearer token Prometheus presents to read GET /metrics from another machine
    # (docs/metrics.md); unset, /metrics answers only requests made on this machine.
    metrics_token: SecretStr | None = Field(default=None, min_length=16)
    # Where recipients reach the service: unsubscribe, open and click links in sent mail are
    # built on it, so behind a proxy it is the public address, not CM_HOST:CM_PORT. Mail
    # providers offer one-click unsubscribe (RFC 8058) only for https.
    public_url: str = "http://127.0.0.1:8000"

    @field_validator("public_url")
    @classmethod
    def _public_base(cls, value: str) -> str:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError:
            raise ValueError("must be an http:// or https:// base URL") from None
        if not value.isascii() or any(c.isspace() or not c.isprintable() for c in value):
            raise ValueError("must be an ASCII URL without spaces (write a host as punycode)")
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an http:// or https:// base URL")
        # Credentials would be mailed to every recipient; a query or fragment would swallow
        # the link paths appended to it.
        if parts.username is not None or parts.query or parts.fragment or len(value) > 200:
            raise ValueError(
                "must be a base URL of at most 200 characters, without user, query or fragment"
            )
        return value.rstrip("/")

    @field_validator("database_url", "database_read_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        scheme = urlsplit(value).scheme
        if scheme.split("+")[0] not in {"postgresql", "postgres"}:
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_only(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        scheme = urlsplit(value).scheme
        if scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("s3_endpoint_url", "otlp_endpoint")
    @classmethod
    def _http_endpoint(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if urlsplit(value).scheme not in {"http", "https"}:
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("soundcloud_web_url", "soundcloud_api_url")
    @classmethod
    def _http_base(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _replica_of_a_primary(self) -> Self:
        if self.database_read_url is not None and self.database_url is None:
            # The embedded server has no replica; a replica of some other server would serve
            # another database's rows.
            raise ValueError("CM_DATABASE_READ_URL needs CM_DATABASE_URL (the primary it follows)")
        return self

    @model_validator(mode="after")
    def _pool_bounds(self) -> Self:
        if self.scraper_actors_max < self.scraper_actors:
            raise ValueError(
                f"CM_SCRAPER_ACTORS_MAX ({self.scraper_actors_max}) must not be below "
                f"CM_SCRAPER_ACTORS ({self.scraper_actors})"
            )
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        proxy_networks(value)
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> list[str]:
        items = value.split(",") if isinstance(value, str) else list(value or [])
        return [cors_origin(str(item)) for item in items if str(item).strip()]

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @property
    def secret_key_file(self) -> Path:
        return self.data_dir / "secret_key"

    @property
    def postgres_data_dir(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def redis_data_dir(self) -> Path:
        return self.data_dir / "redis"

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def uses_embedded_postgres(self) -> bool:
        return self.database_url is None

    @property
    def uses_embedded_redis(self) -> bool:
        return self.redis_url is None

    @property
    def uses_s3(self) -> bool:
        return self.s3_bucket is not None

    @property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return proxy_networks(self.trusted_proxies)

    @property
    def link_in_bio_hosts(self) -> tuple[str, ...]:
        hosts = self.soundcloud_link_in_bio_hosts.split(",")
        return tuple(h.strip().lower() for h in hosts if h.strip())


@functools.lru_cache(maxsize=16)
def proxy_networks(text: str) -> tuple[IPNetwork, ...]:
    """``"10.0.0.1, 192.168.0.0/16"`` as networks (an address is a one-address network)."""
    try:
        return tuple(ip_network(part.strip()) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(
            f"must be IP addresses or CIDR networks, comma-separated ({exc})"
        ) from None


def cors_origin(text: str) -> str:
    """``"https://App.Example.com/"`` as the origin a browser sends: ``https://app.example.com``."""
    value = text.strip().rstrip("/")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        port = None
        parts = urlsplit("")
    if (
        parts.scheme not in {"http", "https"}
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise ValueError(
            f"{text.strip()!r} is not an origin: write scheme://host[:port], like "
            "https://app.example.com (no path, no wildcard)"
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def setting_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    return f"{ENV_PREFIX}{field.upper()}"


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning the first validation failure into a ``ConfigurationError``."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        given = first.get("input")
        if given is not None and not isinstance(given, dict):
            message = f"{message} (got {given!r})"
        raise ConfigurationError(setting_name(field), message) from None
