# coupon-bot's image: README.md, "Running in production". Two stages: `build` turns the
# source into a wheel and installs it with its dependencies into a virtual environment;
# the runtime stage is a clean slim Python with only that environment copied in.
# No Docker engine runs in CI: .ci/run lints this file with hadolint and repeats the build
# stage's two install commands in a fresh virtual environment, then runs `coupon-bot check`.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
# Not editable, no source tree at run time: package data missing from the wheel would show.
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && python -m venv /opt/coupon-bot \
    && /opt/coupon-bot/bin/pip install --no-cache-dir /wheels/*.whl

FROM python:3.11-slim-bookworm
LABEL org.opencontainers.image.title="coupon-bot" \
      org.opencontainers.image.description="Slack chat-ops for Capillary coupons"
# A fixed uid/gid, so a volume or secrets mounted from the host can be given to it.
RUN groupadd --system --gid 10001 coupon-bot \
    && useradd --system --uid 10001 --gid coupon-bot --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin coupon-bot \
    && mkdir -p /data /config \
    && chown coupon-bot:coupon-bot /data
COPY --from=build /opt/coupon-bot /opt/coupon-bot
# Settings (README, Configuration) come from the environment or from files named like the
# variables in /run/secrets (docker secrets); the environment wins.
ENV PATH="/opt/coupon-bot/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    COUPON_BOT_DATABASE=/data/coupon-bot.sqlite3 \
    COUPON_BOT_POLICY=/config/policy.toml \
    COUPON_BOT_PORT=3000
WORKDIR /app
# The audit log and pending approvals: keep them across containers.
VOLUME ["/data"]
USER 10001:10001
EXPOSE 3000
# slim has no curl: python's urllib. A 503 (database unusable) raises, so the check fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('COUPON_BOT_PORT', '3000'), timeout=4)"]
ENTRYPOINT ["coupon-bot"]
CMD ["serve"]
