# Yibi container image: a static binary on distroless, running as non-root.
# Not exercised by the tests: the build machine has the docker client only, no daemon.
#   docker build -t yibi .
FROM golang:1.26 AS build
WORKDIR /src
# The app's module and the session library's modules (go.work joins
# them; the app's go.mod also points at them with replace directives).
COPY go.mod go.sum go.work ./
COPY wechat/go.mod wechat/
COPY wxsession/go.mod wxsession/
COPY wxsession/redisstore/go.mod wxsession/redisstore/go.sum wxsession/redisstore/
COPY wxsession/internal/bench/go.mod wxsession/internal/bench/go.sum wxsession/internal/bench/
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o /out/yibi ./cmd/yibi \
 && mkdir -p /out/emptydir

# distroless/static carries CA certificates (for api.weixin.qq.com), tzdata
# and a nonroot user, and nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/yibi /yibi
# A container's loopback is its own: listen on its interfaces, also in
# development mode (which binds 127.0.0.1 elsewhere). Publishing the port
# is the operator's choice.
ENV YIBI_DATA_DIR=/data \
    YIBI_HOST=0.0.0.0 \
    YIBI_PORT=5757
# The data dir must exist and belong to nonroot (65532) for the SQLite store.
COPY --from=build --chown=65532:65532 /out/emptydir /data
VOLUME /data
USER nonroot:nonroot
EXPOSE 5757
ENTRYPOINT ["/yibi"]
CMD ["serve"]
