# Entry points. `make demo` and `make test` each do the whole set-up on a fresh Debian 12
# machine (as root): install missing packages, configure, build, then run.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
# ON: compiler warnings are errors (CI: `make test WERROR=ON`). Passed at every configure, so a
# later plain `make` in the same build folder goes back to OFF.
WERROR ?= OFF

.PHONY: all setup configure build test demo install bench clean

all: build

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DEPOCHWATT_WERROR=$(WERROR) >/dev/null

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)

install: build
	cmake --install $(BUILD)

bench: build
	@bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)
