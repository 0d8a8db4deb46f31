# Serverless SaaS on Chalice. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
USER_NAME ?= admin
TENANT ?=
# make deploy-pooled / onboard-tenant / deploy-tenants: TARGET=local (the running
# `make local`) or aws.
TARGET ?= local
BUCKET ?=
REGION ?=
ADMIN_EMAIL ?=
DRY_RUN ?=
# aws: days the stacks keep logs (CloudWatch's values; default 30), and whether the pooled
# stack sets the region's API Gateway CloudWatch role (create) or the account has one (existing).
LOG_RETENTION_DAYS ?=
API_GATEWAY_LOGS_ROLE ?=
# make deploy-pooled TARGET=aws: SIGNUP_WAF=1 adds the (billed) WAF sign-up limits; the limits
# (SIGNUP_RATE_PER_ADDRESS, SIGNUP_RATE_TOTAL, SIGNUP_RATE_WINDOW_SECONDS, PENDING_PLATINUM_CAP)
# are also what make local reads from the environment.
SIGNUP_WAF ?=
# aws: minutes a stack may take before the run reports it stuck (default 60).
STACK_TIMEOUT_MINUTES ?=
DIST ?=
# make deploy-tenants: only these Platinum tenants (ids separated by spaces; default: all);
# make release-settings: the one tenant.
TENANT_ID ?=
# make release: the release's id (default: from git), stacks of a wave at once, failed stacks
# tolerated, and whether to ask before each wave after the first.
RELEASE_ID ?=
MAX_CONCURRENCY ?=
FAILURE_THRESHOLD ?=
APPROVE_WAVES ?=
# make release TARGET=aws: VIA=here rolls out from this machine instead of the tenant pipeline.
VIA ?=
# make deploy-pipeline: optionally release every push to BRANCH of REPOSITORY_URL, through the
# CodeConnections connection CONNECTION_ID.
REPOSITORY_URL ?=
CONNECTION_ID ?=
BRANCH ?=
# A variable given on make's command line, as an option: $(call given,NAME,--name). One the
# shell merely exports is ignored (WSL exports NAME, the computer's name: it must never become
# a tenant's or a service's name).
given = $(if $(filter command line,$(origin $(1))),$(if $($(1)),$(2) "$($(1))"))
# Empty variables are left out, so the CLI names what is missing; any DRY_RUN but 0/no/false
# is a dry run (a typo never deploys for real).
DEPLOY_OPTIONS = --target "$(TARGET)" $(if $(BUCKET),--bucket "$(BUCKET)") \
  $(if $(REGION),--region "$(REGION)") $(if $(DIST),--dist "$(DIST)") \
  $(if $(LOG_RETENTION_DAYS),--log-retention-days "$(LOG_RETENTION_DAYS)") \
  $(if $(STACK_TIMEOUT_MINUTES),--stack-timeout-minutes "$(STACK_TIMEOUT_MINUTES)") \
  $(if $(filter-out 0 no false,$(DRY_RUN)),--dry-run)

.DEFAULT_GOAL := help

.PHONY: help venv local token web-config deploy-pooled onboard-tenant migrate-tenant offboard-tenant usage-report billing-export deploy-tenants release rollback deploy-pipeline releases release-settings new-service test unit node-packages lint typecheck layer package bench clean constraints

help: ## this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(STAMP): requirements.txt constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
	  echo "Python 3.11 is required (the Lambda runtime the layer and templates target);" \
	       "run with PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	@# The repository's own code on the virtualenv's path, as the apps' zips and the layer hold
	@# it in Lambda: the project (pipeline, tests), the layer (tenant_context) and the
	@# authorizer app (chalicelib.tenant_authorizer, which every app's local stage runs).
	printf '%s\n' "$(CURDIR)" "$(CURDIR)/layer" "$(CURDIR)/authorizer" \
	  > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/serverless-saas.pth"
	touch $(STAMP)

venv: $(STAMP) ## create the virtualenv with every pinned dependency (done by every target)

local: $(STAMP) ## run the whole platform on loopback until Ctrl-C (EMULATOR_PORT, GATEWAY_PORT, SIGNUP_RATE_*, PENDING_PLATINUM_CAP)
	$(PY) -m pipeline.local_cloud

token: $(STAMP) ## print an ID token: make token [USER_NAME=admin] [TENANT=<tenant name>]
	@$(PY) -m pipeline.local_cloud.sign_in $(if $(TENANT),--tenant "$(TENANT)") "$(USER_NAME)"

web-config: $(STAMP) ## what the three web apps need (URLs, region, pool, client, Cognito endpoint), as JSON [TARGET=aws REGION=... DRY_RUN=1]
	@$(PY) -m pipeline.deploy web-config --target "$(TARGET)" $(if $(REGION),--region "$(REGION)") \
	  $(if $(filter-out 0 no false,$(DRY_RUN)),--dry-run)

deploy-pooled: $(STAMP) ## deploy the pooled stack [TARGET=aws BUCKET=... ADMIN_EMAIL=... REGION=... LOG_RETENTION_DAYS=30 API_GATEWAY_LOGS_ROLE=existing|create SIGNUP_WAF=1 DRY_RUN=1]
	@$(PY) -m pipeline.deploy pooled $(DEPLOY_OPTIONS) $(if $(ADMIN_EMAIL),--admin-email "$(ADMIN_EMAIL)") \
	  $(if $(API_GATEWAY_LOGS_ROLE),--api-gateway-logs-role "$(API_GATEWAY_LOGS_ROLE)") \
	  $(if $(filter-out 0 no false,$(SIGNUP_WAF)),--signup-waf) \
	  $(if $(SIGNUP_RATE_PER_ADDRESS),--signup-rate-per-address "$(SIGNUP_RATE_PER_ADDRESS)") \
	  $(if $(SIGNUP_RATE_TOTAL),--signup-rate-total "$(SIGNUP_RATE_TOTAL)") \
	  $(if $(SIGNUP_RATE_WINDOW_SECONDS),--signup-rate-window-seconds "$(SIGNUP_RATE_WINDOW_SECONDS)") \
	  $(if $(PENDING_PLATINUM_CAP),--pending-platinum-cap "$(PENDING_PLATINUM_CAP)")

onboard-tenant: $(STAMP) ## onboard a tenant: NAME=... EMAIL=... TIER=... [TARGET=aws BUCKET=... REGION=... DRY_RUN=1]
	@$(PY) -m pipeline.deploy tenant $(DEPLOY_OPTIONS) $(call given,NAME,--name) \
	  $(call given,EMAIL,--email) $(call given,TIER,--tier) $(call given,PHONE,--phone) \
	  $(call given,ADDRESS,--address)

migrate-tenant: $(STAMP) ## move a live tenant between the pool and its own Platinum deployment (local): TENANT_ID=... TIER=... [DRY_RUN=1]
	@$(PY) -m pipeline.deploy.local.local_tenant_move $(call given,TENANT_ID,--tenant-id) \
	  $(call given,TIER,--tier) $(if $(filter-out 0 no false,$(DRY_RUN)),--dry-run)

offboard-tenant: $(STAMP) ## offboard a tenant (local; export, then erase after the grace period): TENANT_ID=... CONFIRM="<tenant name>" [DRY_RUN=1] [UNDO=1]
	@$(PY) -m pipeline.deploy.local.local_tenant_offboarding $(call given,TENANT_ID,--tenant-id) \
	  $(call given,CONFIRM,--confirm) $(if $(filter-out 0 no false,$(DRY_RUN)),--dry-run) \
	  $(if $(filter-out 0 no false,$(UNDO)),--undo)

usage-report: $(STAMP) ## the usage report, one self-contained HTML page in .local/reports/ (usage-latest.html) [FROM=YYYY-MM-DD TO=YYYY-MM-DD (default: the last 30 days) TARGET=aws REGION=...]
	@$(PY) -m pipeline.deploy.usage_report --target "$(TARGET)" $(if $(REGION),--region "$(REGION)") \
	  $(call given,FROM,--from) $(call given,TO,--to)

billing-export: $(STAMP) ## a UTC month's usage per tenant and meter, priced, as CSV and JSON billing events in .local/exports/billing/: MONTH=2026-11 [TENANT_ID=... FORMAT=csv|json TARGET=aws REGION=...]
	@$(PY) -m pipeline.deploy.billing_export --target "$(TARGET)" $(if $(REGION),--region "$(REGION)") \
	  $(call given,MONTH,--month) $(call given,TENANT_ID,--tenant-id) $(call given,FORMAT,--format)

deploy-tenants: $(STAMP) ## every Platinum tenant's stack as recorded (release; after deactivation) [TARGET=aws BUCKET=... REGION=... TENANT_ID=... DRY_RUN=1]
	@$(PY) -m pipeline.deploy tenants $(DEPLOY_OPTIONS) \
	  $(foreach id,$(TENANT_ID),--tenant-id "$(id)")

release: $(STAMP) ## roll the code out: pooled first, then Platinum tenants wave by wave [TARGET=aws (to the tenant pipeline; VIA=here: from this machine) RELEASE_ID=... MAX_CONCURRENCY=4 FAILURE_THRESHOLD=0 APPROVE_WAVES=1 DRY_RUN=1]
	@$(PY) -m pipeline.release rollout $(DEPLOY_OPTIONS) \
	  $(if $(RELEASE_ID),--release-id "$(RELEASE_ID)") \
	  $(if $(MAX_CONCURRENCY),--max-concurrency "$(MAX_CONCURRENCY)") \
	  $(if $(FAILURE_THRESHOLD),--failure-threshold "$(FAILURE_THRESHOLD)") \
	  $(if $(filter-out 0 no false,$(APPROVE_WAVES)),--approve-waves) \
	  $(if $(filter here,$(VIA)),--from-here) $(foreach id,$(TENANT_ID),--tenant-id "$(id)")

rollback: $(STAMP) ## roll a published release out again (an earlier one: a rollback) TARGET=aws RELEASE_ID=... [MAX_CONCURRENCY=4 FAILURE_THRESHOLD=0 APPROVE_WAVES=1 DRY_RUN=1]
	@$(PY) -m pipeline.release rollback $(DEPLOY_OPTIONS) $(call given,RELEASE_ID,--release-id) \
	  $(if $(MAX_CONCURRENCY),--max-concurrency "$(MAX_CONCURRENCY)") \
	  $(if $(FAILURE_THRESHOLD),--failure-threshold "$(FAILURE_THRESHOLD)") \
	  $(if $(filter-out 0 no false,$(APPROVE_WAVES)),--approve-waves)

deploy-pipeline: $(STAMP) ## the tenant pipeline's stack (provisioning, release build, rollouts) [TARGET=aws BUCKET=... MAX_CONCURRENCY=4 FAILURE_THRESHOLD=0 APPROVE_WAVES=1 REPOSITORY_URL=... CONNECTION_ID=... BRANCH=main DRY_RUN=1]
	@$(PY) -m pipeline.deploy pipeline $(DEPLOY_OPTIONS) \
	  $(if $(MAX_CONCURRENCY),--max-concurrency "$(MAX_CONCURRENCY)") \
	  $(if $(FAILURE_THRESHOLD),--failure-threshold "$(FAILURE_THRESHOLD)") \
	  $(if $(filter-out 0 no false,$(APPROVE_WAVES)),--approve-waves) \
	  $(if $(REPOSITORY_URL),--repository-url "$(REPOSITORY_URL)") \
	  $(if $(CONNECTION_ID),--connection-id "$(CONNECTION_ID)") $(if $(BRANCH),--branch "$(BRANCH)")

releases: $(STAMP) ## what each deployment runs now: release, wave, pin, last result
	@$(PY) -m pipeline.release status --target "$(TARGET)" $(if $(REGION),--region "$(REGION)")

release-settings: $(STAMP) ## a Platinum tenant's place in rollouts: TENANT_ID=... [WAVE=1-100|last] [APPLY_LATEST_RELEASE=true|false]
	@$(PY) -m pipeline.release settings --target "$(TARGET)" $(if $(REGION),--region "$(REGION)") \
	  $(call given,TENANT_ID,--tenant-id) \
	  $(call given,WAVE,--wave) $(call given,APPLY_LATEST_RELEASE,--apply-latest-release)

new-service: $(STAMP) ## a tenant service, its tests and its registry line: NAME=... [ITEM=<NAME>] [ID=<item>Id]
	@$(PY) -m pipeline.scaffold $(call given,NAME,--name) $(call given,ITEM,--item) \
	  $(call given,ID,--id)

# The web apps' Cognito library (amazon-cognito-identity-js), exactly as the lock file pins it:
# tests/e2e/test_web_client_sign_in.py signs in with it under node. Without node the tests stop
# here, never skip it (CI's .ci/run installs Debian's nodejs and npm first).
WEB_CLIENT := tests/web_client
NODE_PACKAGES := $(WEB_CLIENT)/node_modules/.package-lock.json

$(NODE_PACKAGES): $(WEB_CLIENT)/package.json $(WEB_CLIENT)/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null \
	  && node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 18 ? 1 : 0)' || { \
	  echo "$(if $(CI),CI: )Node.js 18+ and npm are required (the web apps' Cognito library signs in under node): install them, e.g. apt-get install nodejs npm" >&2; \
	  exit 1; }
	cd $(WEB_CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

node-packages: $(NODE_PACKAGES) ## the web client test's npm packages, from its lock file (npm ci; needs Node.js 18+ and npm)

test: $(STAMP) $(NODE_PACKAGES) lint typecheck ## lint, type-check and run every test (starts its own platform; needs Node.js 18+ and npm)
	$(PY) -m pytest --durations=15

unit: $(STAMP) $(NODE_PACKAGES) ## every test except those that start the whole local platform (faster)
	$(PY) -m pytest -m "not platform"

# The tenant services: every <name>_service/ folder with an app (each one's registry entry in
# layer/tenant_context/tenant_services.py is checked against these folders by the tests).
TENANT_SERVICE_DIRS := $(patsubst %/app.py,%,$(wildcard *_service/app.py))
APPS := authorizer shared_services $(TENANT_SERVICE_DIRS)
empty :=
space := $(empty) $(empty)
# Every source folder on the path, as each function's zip and the layer hold them in Lambda.
SOURCE_PATH := layer:$(subst $(space),:,$(APPS)):.

lint: $(STAMP) ## ruff, and the architecture's import contracts (lint-imports; pyproject.toml)
	$(VENV)/bin/ruff check .
	PYTHONPATH=$(SOURCE_PATH) $(VENV)/bin/lint-imports --no-cache

typecheck: $(STAMP) ## mypy (strict), one cache: shared code and tests, then each Chalice app from its own folder
	$(VENV)/bin/mypy --cache-dir .mypy_cache layer/tenant_context pipeline tests benchmarks
	@for app in $(APPS); do \
	  (cd $$app && ../$(VENV)/bin/mypy --cache-dir ../.mypy_cache --config-file ../pyproject.toml \
	     app.py $$( [ -d chalicelib ] && echo chalicelib )) || exit 1; \
	done

layer: $(STAMP) ## build the ONE Lambda layer zip (dist/layer/)
	$(PY) -m pipeline.packaging layer

package: $(STAMP) ## the layer, then chalice package of every app: dist/cloudformation/{pooled,silo,tenant-pipeline}/
	$(PY) -m pipeline.packaging package

bench: $(STAMP) ## benchmarks (authorizer, front-door metering, listing, usage metering on/off, cold start, registration, rollout, soak, tenant move), printed
	$(PY) -m benchmarks

constraints: ## re-pin every transitive dependency from requirements.txt
	rm -rf /tmp/constraints-venv && $(PYTHON) -m venv /tmp/constraints-venv
	/tmp/constraints-venv/bin/pip install -q -r requirements.txt
	(echo "# Full pin set (transitive included) for requirements.txt; regenerate with \`make constraints\`."; \
	 /tmp/constraints-venv/bin/pip freeze) > constraints.txt

clean: ## remove build output (keeps .local state and the virtualenv)
	rm -rf dist
