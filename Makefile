# h2pcap. Everything builds with CGO_ENABLED=0: one static binary, no libpcap.
export CGO_ENABLED := 0
GO ?= go

.PHONY: all build demo test deps lab bench fuzz pgo

all: build

# -buildvcs=auto: --version names the commit the binary was built from, also
# where GOFLAGS turns VCS stamping off; outside a git checkout it stamps nothing.
build:
	$(GO) build -buildvcs=auto -o bin/h2pcap ./cmd/h2pcap

# Analyse the sample capture embedded in the binary.
demo:
	$(GO) run ./cmd/h2pcap demo

# Installs what the tests need (tshark is the oracle), then runs every test.
# lab/etcd is a module of its own: vetted apart (.ci/vet-lab.sh).
test: deps
	$(GO) vet ./...
	bash .ci/vet-lab.sh
	$(GO) test -count=1 ./...

deps:
	bash .ci/deps.sh

# Regenerates testdata/pcaps/<scenario>/ from real traffic in network namespaces (root).
lab: deps
	bash lab/run.sh

# Speed and memory against tshark and tcpdump on a large lab capture (root).
bench: deps build
	bash bench/run.sh

# Rewrites cmd/h2pcap/default.pgo, the profile go build optimises with,
# from the bench workloads (bench/pgo.sh).
pgo:
	bash bench/pgo.sh

# A short run of every fuzz target.
fuzz:
	bash .ci/fuzz.sh
