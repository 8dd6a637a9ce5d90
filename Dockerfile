# spoor: one static binary; the same image runs `run`, `collector` and `sink`.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/spoor ./cmd/spoor && mkdir -p /out/data/events

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/spoor /usr/local/bin/spoor
COPY config.json /etc/spoor/config.json
# Owned by the nonroot user, so named volumes mounted here start writable.
COPY --from=build --chown=65532:65532 /out/data /var/lib/spoor
WORKDIR /var/lib/spoor
ENV SPOOR_DATA_DIR=/var/lib/spoor SPOOR_HTTP_ADDR=0.0.0.0:8080 SPOOR_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/spoor", "-config", "/etc/spoor/config.json"]
CMD ["run"]
