# The engine only: Asterisk runs on the host (Debian 12 has no asterisk package) and the
# engine reaches its AMI on 127.0.0.1, so run with --network host.
#   docker build -t callengine .
#   docker run --network host -e CALLENGINE_AMI_SECRET=... -v /var/lib/callengine:/data \
#              -v /var/log/asterisk:/var/log/asterisk:ro callengine run
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml setup.cfg README.md ./
COPY callengine ./callengine
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres]"

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 1001 --home /data callengine \
    && mkdir -p /data && chown callengine /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER 1001
ENV CALLENGINE_DATA_DIR=/data
ENTRYPOINT ["callengine"]
CMD ["run"]
