# Yibi container image: a static binary on distroless, running as non-root.
# Not exercised by the tests: the build machine has the docker client only, no daemon.
#   docker build -t yibi .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o /out/yibi ./cmd/yibi \
 && mkdir -p /out/emptydir

# distroless/static carries CA certificates (for api.weixin.qq.com), tzdata
# and a nonroot user, and nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/yibi /yibi
ENV YIBI_DATA_DIR=/data \
    YIBI_PORT=5757
# The data dir must exist and belong to nonroot (65532) for the SQLite store.
COPY --from=build --chown=65532:65532 /out/emptydir /data
VOLUME /data
USER nonroot:nonroot
EXPOSE 5757
ENTRYPOINT ["/yibi"]
CMD ["serve"]
