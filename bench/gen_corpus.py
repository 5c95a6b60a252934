#!/usr/bin/env python3
"""Deterministic generator of a source-like tree for keyhound's benchmarks.

    python3 bench/gen_corpus.py DIR [--seed N] [--files N] [--megabytes N]

Writes about 3,000 files / 25 MB of identifier-heavy code and configuration (Python, JS/TS, Go,
Rust, Java, YAML, JSON, Markdown, .env, Dockerfile, Terraform, a few large minified bundles and
package-lock.json files) into DIR, with a handful of real-shaped keys planted in it, and writes
next to the tree (never inside it):

    DIR.planted.json   manifest: every planted key's path (relative to DIR), line, kind, secret
    DIR.small.py       one ~2 KB Python file holding one key (the single-file benchmark)

The same seed gives byte-identical output. The text is full of words that secret scanners key
on (token, password, secret, bearer, api_key, Authorization headers) used the way real code uses
them: references such as `Bearer ${TOKEN}` or `os.environ["API_KEY"]`, hashes, UUIDs, commit ids,
integrity strings and base64 blobs. None of those is a key; only the planted ones are.

No key-shaped literal appears in this script: every planted key is assembled at run time from
its prefix parts and a body drawn from the seeded RNG.
"""

import argparse
import base64
import json
import os
import random
import shutil
import string
import sys
import zlib

ALNUM = string.ascii_letters + string.digits
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
B64 = string.ascii_letters + string.digits + "+/"
HEX = "0123456789abcdef"

# --------------------------------------------------------------------------------------------
# vocabulary

NOUNS = """user account session token password secret key credential order invoice payment
client config request response cache auth header signature webhook tenant org organization
member role permission scope grant refresh access bearer api endpoint route handler service
repository store queue job worker event message notification email template report metric
span trace logger limit quota plan subscription customer product price cart checkout address
profile avatar upload file bucket object blob record row column schema migration index cursor
page batch stream channel topic consumer producer broker lease lock mutex pool connection
transport retry backoff timeout deadline context settings env flag feature experiment
audit policy rule matcher filter parser encoder decoder codec hash digest nonce salt cipher
certificate keystore vault rotation expiry issuer audience claim jwt oauth callback redirect
""".split()
VERBS = """get set load fetch validate parse build refresh rotate encode decode create update
delete list find resolve verify sign issue revoke store read write send handle process apply
compute check ensure register init start stop flush sync merge split render format normalize
sanitize redact mask hash encrypt decrypt authorize authenticate exchange lookup select
""".split()
ADJ = """default current pending active stale cached signed raw encoded primary secondary
internal external public private remote local max min next prev new old""".split()
PKGS = """auth billing users orders notify search gateway ledger catalog inventory reports
accounts sessions webhooks tenants audit payments shipping pricing identity""".split()
WORDS = """the a an of to in for with on by from this that when if then else must should can
will not is are be been was were returns value request token password secret key user service
client server cache configuration default option field error message header body response
session rotation expires refresh access scope permission missing invalid required optional
""".split()

NPM_PKGS = """react react-dom lodash axios express body-parser cookie-parser jsonwebtoken
bcryptjs dotenv uuid chalk commander debug ms semver yargs minimist glob rimraf mkdirp
js-tokens loose-envify scheduler object-assign safe-buffer inherits readable-stream
string_decoder util-deprecate core-util-is isarray process-nextick-args buffer base64-js
ieee754 punycode qs side-channel call-bind get-intrinsic has-symbols function-bind
@babel/core @babel/parser @babel/types @babel/traverse @babel/generator @babel/runtime
@types/node @types/react typescript eslint prettier webpack webpack-cli terser vite rollup
esbuild postcss autoprefixer tailwindcss zod jose node-fetch ws socket.io passport
passport-jwt passport-local helmet cors morgan compression nanoid date-fns dayjs
""".split()


class Gen:
    def __init__(self, rng):
        self.r = rng

    # ---- small pieces --------------------------------------------------------------------
    def pick(self, seq):
        return self.r.choice(seq)

    def words(self, n):
        return [self.pick(NOUNS) for _ in range(n)]

    def snake(self, n=None):
        n = n or self.r.randint(1, 3)
        parts = ([self.pick(VERBS)] if self.r.random() < 0.3 else []) + self.words(n)
        return "_".join(parts)

    def camel(self, n=None, upper=False):
        n = n or self.r.randint(1, 3)
        parts = ([self.pick(VERBS)] if self.r.random() < 0.4 else []) + self.words(n)
        s = parts[0] + "".join(p.capitalize() for p in parts[1:])
        return s[0].upper() + s[1:] if upper else s

    def func(self):
        return self.pick(VERBS) + "".join(w.capitalize() for w in self.words(self.r.randint(1, 2)))

    def const(self):
        return "_".join(w.upper() for w in self.words(self.r.randint(1, 3)))

    def env_name(self):
        base = self.pick(["API_TOKEN", "API_KEY", "SECRET_KEY", "DB_PASSWORD", "AUTH_TOKEN",
                          "ACCESS_TOKEN", "CLIENT_SECRET", "JWT_SECRET", "SESSION_SECRET",
                          "WEBHOOK_SECRET", "REDIS_PASSWORD", "SMTP_PASSWORD", "SIGNING_KEY",
                          "STRIPE_SECRET_KEY", "GITHUB_TOKEN", "SLACK_BOT_TOKEN",
                          "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "COMMUNAL_API_KEY",
                          "POLITICAL_COMMS_API_KEY", "NPM_TOKEN", "SENTRY_DSN"])
        if self.r.random() < 0.3:
            return self.pick(PKGS).upper() + "_" + base
        return base

    def sentence(self, lo=6, hi=16):
        w = [self.pick(WORDS) for _ in range(self.r.randint(lo, hi))]
        return (" ".join(w)).capitalize() + "."

    def hexs(self, n):
        return "".join(self.r.choice(HEX) for _ in range(n))

    def uuid(self):
        h = self.hexs(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{self.pick('89ab')}{h[17:20]}-{h[20:32]}"

    def b64(self, nbytes):
        return base64.b64encode(self.r.randbytes(nbytes)).decode()

    def sha512_integrity(self):
        return "sha512-" + self.b64(64)

    def semver(self):
        return f"{self.r.randint(0, 12)}.{self.r.randint(0, 30)}.{self.r.randint(0, 40)}"

    def num(self):
        return str(self.r.choice([0, 1, 2, 3, 5, 8, 10, 16, 30, 60, 100, 128, 256, 1000, 3600, 86400]))

    def strlit(self):
        c = self.r.random()
        if c < 0.25:
            return self.sentence(2, 6)
        if c < 0.4:
            return "/" + "/".join(self.words(self.r.randint(1, 3)))
        if c < 0.5:
            return self.uuid()
        if c < 0.55:
            return self.hexs(40)
        return self.snake()

    # ---- keyword-ish lines shared by several languages: references, never values -----------
    def ref_lines_py(self):
        n, e = self.snake(), self.env_name()
        return self.pick([
            f'{n} = os.environ.get("{e}")',
            f'{n} = os.environ["{e}"]',
            f'headers = {{"Authorization": f"Bearer {{{n}}}"}}',
            f'headers["Authorization"] = "Bearer " + self.{n}',
            f'if not {n}:\n        raise ConfigError("missing {e.lower()}")',
            f'password_hash = hashlib.sha256(password.encode() + salt).hexdigest()',
            f'token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()',
            f'secret = settings.{e}',
            f'api_key = getenv("{e}", "")',
            f'session_key = f"sess:{{user_id}}:{{{n}}}"',
            f'idempotency_key = str(uuid.uuid4())',
            f'cache_key = "{self.pick(PKGS)}:v2:" + hashlib.sha1({n}.encode()).hexdigest()',
            f'PASSWORD_MIN_LENGTH = {self.r.randint(8, 16)}',
            f'TOKEN_URL = "https://auth.{self.pick(PKGS)}.internal/oauth/token"',
            f'DEFAULT_SECRET_NAME = "{self.pick(PKGS)}/{self.pick(["prod", "staging"])}/credentials"',
            f'REQUEST_ID = "{self.uuid()}"',
            f'logger.debug("rotating secret %s for tenant %s", secret_id, tenant_id)',
            f'return jwt.encode(claims, self.signing_key, algorithm="HS256")',
        ])

    def ref_lines_js(self):
        n, e = self.camel(), self.env_name()
        return self.pick([
            f"const {n} = process.env.{e};",
            f"headers: {{ Authorization: `Bearer ${{{n}}}` }},",
            f"headers.set('Authorization', `Bearer ${{token}}`);",
            f"axios.defaults.headers.common['Authorization'] = 'Bearer ' + {n};",
            f"if (!{n}) throw new Error('missing {e.lower()}');",
            f"const apiKey = config.get('{self.pick(PKGS)}.apiKey');",
            f"const passwordHash = await bcrypt.hash(password, saltRounds);",
            f"const token = req.headers.authorization?.replace(/^Bearer\\s+/i, '');",
            f"const secret = process.env.{e} ?? '';",
            f"const requestId = '{self.uuid()}';",
            f"localStorage.setItem('{self.camel()}Token', {n});",
            f"const refreshToken = await {self.func()}(session.refreshToken);",
            f"export const PASSWORD_MIN_LENGTH = {self.r.randint(8, 16)};",
            f"const cacheKey = `${{tenantId}}:${{{n}}}`;",
            f"const commit = '{self.hexs(40)}';",
        ])

    # ---- languages: each returns a list of blocks (lists of lines) ------------------------
    def blocks(self, kind, target):
        fn = getattr(self, "gen_" + kind)
        out, size = [], 0
        for block in fn():
            out.append(block)
            size += sum(len(line) + 1 for line in block)
            if size >= target:
                break
        return out

    def gen_py(self):
        imports = ["import os", "import json", "import hashlib", "import logging", "import uuid",
                   "from datetime import datetime, timedelta",
                   f"from .{self.pick(PKGS)} import {self.camel(upper=True)}, {self.camel(upper=True)}",
                   f"from ..{self.snake()} import {self.func()}"]
        self.r.shuffle(imports)
        yield ['"""' + self.sentence() + '"""', ""] + imports + ["", "logger = logging.getLogger(__name__)",
                                                                  f'{self.const()} = "{self.strlit()}"', ""]
        while True:
            if self.r.random() < 0.3:
                cls = self.camel(upper=True)
                lines = [f"class {cls}({self.pick(['object', 'BaseModel', 'Exception', 'Protocol'])}):",
                         f'    """{self.sentence()}"""', ""]
                for _ in range(self.r.randint(1, 4)):
                    args = ", ".join(self.snake(1) for _ in range(self.r.randint(0, 3)))
                    lines += [f"    def {self.snake()}(self{', ' + args if args else ''}):"]
                    for _ in range(self.r.randint(2, 7)):
                        lines.append("        " + self.py_stmt().replace("\n", "\n    "))
                    lines += [f"        return {self.snake(1)}", ""]
                yield lines
            else:
                args = ", ".join(self.snake(1) for _ in range(self.r.randint(0, 4)))
                lines = [f"def {self.snake()}({args}):", f'    """{self.sentence()}"""']
                for _ in range(self.r.randint(2, 9)):
                    lines.append("    " + self.py_stmt())
                lines += [f"    return {self.snake(1)}", "", ""]
                yield lines

    def py_stmt(self):
        c = self.r.random()
        if c < 0.3:
            return self.ref_lines_py()
        if c < 0.5:
            return f"{self.snake()} = {self.snake(1)}.{self.snake()}({self.snake(1)}, {self.snake(1)}={self.num()})"
        if c < 0.6:
            return f'logger.info("{self.sentence(3, 8)}", extra={{"{self.snake(1)}": {self.snake(1)}}})'
        if c < 0.7:
            return f"for {self.snake(1)} in {self.snake()}:\n        {self.snake(1)}.append({self.snake(1)})"
        if c < 0.8:
            return f"# {self.sentence()}"
        # A dict literal; a field whose name is keyword-ish gets a plain word, not a random value
        # (a random value under `password` would be ambiguous bait).
        field = self.snake(1)
        value = self.strlit()
        if any(w in field for w in ("key", "secret", "password", "token", "credential", "auth", "oauth")):
            value = self.snake()
        return f'{self.snake()} = {{"{field}": "{value}", "{self.snake(1)}": {self.num()}}}'

    def gen_js(self, ts=False):
        head = [f"import {{ {self.camel()}, {self.camel()} }} from '../{self.pick(PKGS)}/{self.camel()}';",
                f"import {self.camel(upper=True)} from '{self.pick(NPM_PKGS)}';",
                f"import axios from 'axios';", ""]
        if ts:
            head += [f"export interface {self.camel(upper=True)} {{"] + [
                f"  {self.camel()}{'?' if self.r.random() < 0.3 else ''}: {self.pick(['string', 'number', 'boolean', 'Date', 'string[]', 'Record<string, string>'])};"
                for _ in range(self.r.randint(2, 8))] + ["}", ""]
        yield head
        while True:
            name = self.func()
            args = ", ".join(self.camel(1) + (": " + self.pick(["string", "number", "Options"]) if ts else "")
                             for _ in range(self.r.randint(0, 3)))
            ret = ": Promise<" + self.camel(upper=True) + ">" if ts else ""
            lines = [f"/** {self.sentence()} */",
                     f"export {'async ' if self.r.random() < 0.5 else ''}function {name}({args}){ret} {{"]
            for _ in range(self.r.randint(2, 9)):
                c = self.r.random()
                if c < 0.35:
                    lines.append("  " + self.ref_lines_js())
                elif c < 0.5:
                    lines += [f"  const res = await fetch(`${{BASE_URL}}/{self.camel()}`, {{",
                              f"    method: '{self.pick(['GET', 'POST', 'PUT', 'DELETE'])}',",
                              f"    headers: {{ Authorization: `Bearer ${{{self.pick(['TOKEN', 'token', 'accessToken', 'this.apiKey', 'session.token'])}}}`, 'Content-Type': 'application/json' }},",
                              f"  }});"]
                elif c < 0.7:
                    lines.append(f"  const {self.camel()} = {self.camel()}.{self.func()}({self.camel(1)}, {{ {self.camel(1)}: {self.num()} }});")
                elif c < 0.8:
                    lines.append(f"  // {self.sentence()}")
                else:
                    lines.append(f"  if ({self.camel()} === '{self.strlit()}') return {self.camel(1)};")
            lines += [f"  return {self.camel(1)};", "}", ""]
            yield lines

    def gen_ts(self):
        return self.gen_js(ts=True)

    def gen_go(self):
        pkg = self.pick(PKGS)
        yield [f"// Package {pkg} {self.sentence(4, 10).lower()}", f"package {pkg}", "", "import (",
               '\t"context"', '\t"fmt"', '\t"net/http"', '\t"os"', '\t"time"', ")", ""]
        while True:
            if self.r.random() < 0.25:
                s = self.camel(upper=True)
                lines = [f"// {s} {self.sentence().lower()}", f"type {s} struct {{"]
                for _ in range(self.r.randint(2, 7)):
                    f = self.camel(upper=True)
                    lines.append(f'\t{f} {self.pick(["string", "int", "time.Duration", "[]byte", "*http.Client"])} `json:"{self.snake()}"`')
                lines += [f'\tAPIKey string `json:"api_key"`' if self.r.random() < 0.3 else "\tmu sync.Mutex", "}", ""]
                yield lines
                continue
            recv = self.camel(upper=True)
            lines = [f"// {self.func()} {self.sentence().lower()}",
                     f"func (c *{recv}) {self.func()[0].upper()}{self.func()[1:]}(ctx context.Context, {self.camel(1)} string) error {{"]
            for _ in range(self.r.randint(2, 9)):
                c = self.r.random()
                n = self.camel()
                if c < 0.3:
                    lines.append("\t" + self.pick([
                        f'{n} := os.Getenv("{self.env_name()}")',
                        f'req.Header.Set("Authorization", "Bearer "+c.{n})',
                        f'req.Header.Set("Authorization", fmt.Sprintf("Bearer %s", token))',
                        f'if {n} == "" {{\n\t\treturn fmt.Errorf("missing {self.env_name().lower()}")\n\t}}',
                        f'secret, err := c.vault.Read(ctx, "{pkg}/{self.pick(["prod", "dev"])}/password")',
                        f'hash := sha256.Sum256([]byte(password + salt))',
                        f'const defaultCommit = "{self.hexs(40)}"',
                        f'tenantID := "{self.uuid()}"',
                    ]))
                elif c < 0.6:
                    lines += [f"\t{n}, err := c.{self.camel(upper=True)}(ctx, {self.camel(1)})", "\tif err != nil {",
                              f'\t\treturn fmt.Errorf("{self.func()}: %w", err)', "\t}"]
                elif c < 0.75:
                    lines.append(f"\t// {self.sentence()}")
                else:
                    lines.append(f"\tc.{self.camel()} = time.Duration({self.num()}) * time.Second")
            lines += ["\treturn nil", "}", ""]
            yield lines

    def gen_rs(self):
        yield [f"//! {self.sentence()}", "", "use std::collections::HashMap;", "use std::time::Duration;",
               f"use crate::{self.snake(1)}::{{{self.camel(upper=True)}, {self.camel(upper=True)}}};", ""]
        while True:
            if self.r.random() < 0.25:
                s = self.camel(upper=True)
                lines = [f"/// {self.sentence()}", "#[derive(Debug, Clone, Deserialize)]", f"pub struct {s} {{"]
                for _ in range(self.r.randint(2, 6)):
                    lines.append(f"    pub {self.snake()}: {self.pick(['String', 'u64', 'Duration', 'Option<String>', 'Vec<u8>', 'bool'])},")
                lines += ["}", ""]
                yield lines
                continue
            lines = [f"/// {self.sentence()}",
                     f"pub fn {self.snake()}({self.snake(1)}: &str, {self.snake(1)}: &mut {self.camel(upper=True)}) -> Result<(), Error> {{"]
            for _ in range(self.r.randint(2, 8)):
                c = self.r.random()
                if c < 0.3:
                    lines.append("    " + self.pick([
                        f'let token = std::env::var("{self.env_name()}")?;',
                        f'let req = client.get(url).bearer_auth(&self.{self.snake()});',
                        f'req.headers_mut().insert(AUTHORIZATION, format!("Bearer {{}}", token).parse()?);',
                        f'let password_hash = argon2.hash_password(password.as_bytes(), &salt)?;',
                        f'let secret = self.vault.get("{self.pick(PKGS)}/api_key").await?;',
                        f'const COMMIT: &str = "{self.hexs(40)}";',
                    ]))
                elif c < 0.6:
                    lines.append(f"    let {self.snake()} = {self.snake(1)}.{self.snake()}(&{self.snake(1)}).map_err(Error::from)?;")
                elif c < 0.75:
                    lines.append(f"    // {self.sentence()}")
                else:
                    lines.append(f'    tracing::debug!({self.snake(1)} = %{self.snake(1)}, "{self.sentence(3, 7)}");')
            lines += ["    Ok(())", "}", ""]
            yield lines

    def gen_java(self):
        pkg = self.pick(PKGS)
        cls = self.camel(upper=True)
        yield [f"package com.acme.{pkg}.{self.snake(1)};", "", "import java.util.*;",
               "import org.springframework.beans.factory.annotation.Value;", "",
               f"/** {self.sentence()} */", f"public class {cls} {{",
               f'    @Value("${{app.{self.snake(1)}.secret}}")', "    private String jwtSecret;",
               "    private final String apiKey;", ""]
        while True:
            lines = [f"    /** {self.sentence()} */",
                     f"    public {self.pick(['void', 'String', 'boolean', 'Optional<String>'])} {self.func()}(String {self.camel(1)}) {{"]
            for _ in range(self.r.randint(2, 8)):
                c = self.r.random()
                if c < 0.3:
                    lines.append("        " + self.pick([
                        f'request.setHeader("Authorization", "Bearer " + {self.camel()});',
                        f'String token = System.getenv("{self.env_name()}");',
                        f'String password = credentials.getPassword();',
                        f'if (apiKey == null) throw new IllegalStateException("missing api key");',
                        f'byte[] hash = MessageDigest.getInstance("SHA-256").digest(secret.getBytes());',
                        f'UUID requestId = UUID.fromString("{self.uuid()}");',
                    ]))
                elif c < 0.65:
                    lines.append(f"        {self.camel(upper=True)} {self.camel()} = this.{self.camel()}.{self.func()}({self.camel(1)});")
                elif c < 0.8:
                    lines.append(f"        // {self.sentence()}")
                else:
                    lines.append(f'        log.info("{self.sentence(3, 7)} {{}}", {self.camel(1)});')
            lines += ["    }", ""]
            yield lines

    def gen_yaml(self):
        svc = self.pick(PKGS)
        if self.r.random() < 0.5:
            yield ["apiVersion: apps/v1", "kind: Deployment", "metadata:", f"  name: {svc}",
                   "spec:", "  template:", "    spec:", "      containers:", f"        - name: {svc}",
                   f"          image: registry.acme.internal/{svc}@sha256:{self.hexs(64)}", "          env:"]
            while True:
                e = self.env_name()
                if self.r.random() < 0.5:
                    yield [f"            - name: {e}", "              valueFrom:", "                secretKeyRef:",
                           f"                  name: {svc}-{self.pick(['credentials', 'secrets', 'tokens'])}",
                           f"                  key: {e.lower().replace('_', '-')}"]
                else:
                    yield [f"            - name: {self.const()}", f'              value: "{self.strlit()}"']
        else:
            yield ["name: ci", "on:", "  push:", "    branches: [main]", "jobs:", "  build:",
                   "    runs-on: ubuntu-latest", "    steps:", f"      - uses: actions/checkout@{self.hexs(40)}"]
            while True:
                yield [f"      - name: {self.sentence(2, 5)}", f"        run: make {self.snake(1)}", "        env:",
                       f"          {self.env_name()}: ${{{{ secrets.{self.env_name()} }}}}",
                       f"          CACHE_KEY: ${{{{ runner.os }}}}-{self.snake(1)}-${{{{ hashFiles('**/lock') }}}}"]

    def gen_json(self):
        yield ["{", f'  "id": "{self.uuid()}",', f'  "name": "{self.snake()}",']
        while True:
            c = self.r.random()
            if c < 0.3:
                yield [f'  "{self.camel()}": {{', f'    "key": "{self.uuid()}",', f'    "token_type": "bearer",',
                       f'    "expires_in": {self.num()},', f'    "scope": "{" ".join(self.words(3))}"', "  },"]
            elif c < 0.5:
                yield [f'  "{self.snake()}": "{self.sentence(3, 8)}",',
                       f'  "password_reset_{self.snake(1)}": "Reset your password",']
            elif c < 0.6:
                yield [f'  "icon_{self.snake(1)}": "data:image/png;base64,{self.b64(self.r.randint(200, 900))}",']
            elif c < 0.75:
                yield [f'  "{self.camel()}": ["{self.uuid()}", "{self.uuid()}", "{self.uuid()}"],']
            else:
                yield [f'  "{self.camel()}": {{"commit": "{self.hexs(40)}", "checksum": "sha256:{self.hexs(64)}"}},']

    def gen_md(self):
        yield [f"# {self.sentence(2, 5)[:-1]}", "", self.sentence(10, 30), ""]
        while True:
            c = self.r.random()
            if c < 0.4:
                yield [" ".join(self.sentence() for _ in range(self.r.randint(2, 6))), ""]
            elif c < 0.6:
                yield ["```bash", f"export {self.env_name()}=<your-api-key>",
                       f'curl -H "Authorization: Bearer $API_TOKEN" https://api.acme.dev/v1/{self.snake(1)}', "```", ""]
            elif c < 0.75:
                yield [f"## {self.sentence(2, 5)[:-1]}", ""] + [
                    f"- {self.hexs(7)} {self.sentence(3, 8)}" for _ in range(self.r.randint(2, 8))] + [""]
            else:
                yield [f"| {self.snake(1)} | {self.snake(1)} |", "| --- | --- |"] + [
                    f"| `{self.env_name()}` | {self.sentence(3, 8)} |" for _ in range(self.r.randint(2, 6))] + [""]

    def gen_env(self):
        yield [f"# {self.sentence()}"]
        while True:
            e = self.env_name()
            yield [self.pick([f"{e}=", f"{e}=changeme", f"{e}=${{{e}}}", f"{e}=<your-token-here>",
                              f"DATABASE_URL=postgres://app:${{DB_PASSWORD}}@db:5432/{self.snake(1)}",
                              f"{self.const()}={self.num()}", f"{self.const()}={self.snake(1)}"])]

    def gen_dockerfile(self):
        yield [f"FROM python:3.12-slim@sha256:{self.hexs(64)}", "ARG NPM_TOKEN", "ARG GITHUB_TOKEN",
               "WORKDIR /app"]
        while True:
            yield [self.pick([f"RUN pip install --no-cache-dir {self.pick(NPM_PKGS)}=={self.semver()}",
                              f"COPY {self.snake(1)}/ /app/{self.snake(1)}/",
                              f"ENV {self.const()}={self.snake(1)}",
                              "RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci",
                              f"# {self.sentence()}"])]

    def gen_tf(self):
        while True:
            n = self.snake()
            c = self.r.random()
            if c < 0.3:
                yield [f'variable "{n}_password" {{', '  type      = string', '  sensitive = true', "}", ""]
            elif c < 0.6:
                yield [f'resource "aws_db_instance" "{n}" {{', f'  identifier = "{n.replace("_", "-")}"',
                       f"  password   = var.{n}_password", f"  kms_key_id = aws_kms_key.{self.snake(1)}.arn",
                       '  tags = {', f'    commit = "{self.hexs(40)}"', "  }", "}", ""]
            else:
                yield [f'resource "aws_secretsmanager_secret" "{n}" {{', f'  name = "{self.pick(PKGS)}/{n}"',
                       f'  description = "{self.sentence(3, 8)}"', "}", ""]

    def gen_toml(self):
        yield ["[package]", f'name = "{self.snake(1)}"', f'version = "{self.semver()}"', ""]
        while True:
            yield ["[[package]]", f'name = "{self.snake(1)}-{self.snake(1)}"', f'version = "{self.semver()}"',
                   'source = "registry+https://github.com/rust-lang/crates.io-index"',
                   f'checksum = "{self.hexs(64)}"', ""]

    def gen_gosum(self):
        while True:
            m = f"github.com/{self.snake(1)}/{self.snake(1)} v{self.semver()}"
            yield [f"{m} h1:{self.b64(32)}", f"{m}/go.mod h1:{self.b64(32)}"]

    def gen_sh(self):
        yield ["#!/usr/bin/env bash", "set -euo pipefail", ""]
        while True:
            yield [self.pick([f': "${{{self.env_name()}:?must be set}}"',
                              f'curl -fsS -H "Authorization: Bearer ${{TOKEN}}" "$API/{self.snake(1)}"',
                              f"echo \"{self.sentence(3, 8)}\"", f"{self.snake(1)}=$(vault kv get -field=password {self.pick(PKGS)}/db)"])]

    def gen_lockfile(self):
        yield ["{", f'  "name": "{self.snake(1)}",', f'  "version": "{self.semver()}",', '  "lockfileVersion": 3,',
               '  "requires": true,', '  "packages": {']
        while True:
            p = self.pick(NPM_PKGS)
            path = "node_modules/" + p
            if self.r.random() < 0.4:
                path += "/node_modules/" + self.pick(NPM_PKGS)
            v = self.semver()
            lines = [f'    "{path}": {{', f'      "version": "{v}",',
                     f'      "resolved": "https://registry.npmjs.org/{p}/-/{p.split("/")[-1]}-{v}.tgz",',
                     f'      "integrity": "{self.sha512_integrity()}",']
            if self.r.random() < 0.5:
                lines += ['      "dependencies": {'] + [
                    f'        "{self.pick(NPM_PKGS)}": "^{self.semver()}",' for _ in range(self.r.randint(1, 4))] + ["      },"]
            lines += [f'      "license": "{self.pick(["MIT", "ISC", "Apache-2.0", "BSD-3-Clause"])}"', "    },"]
            yield lines

    def gen_minjs(self):
        """A minified bundle: a few very long lines."""
        while True:
            parts = []
            for _ in range(self.r.randint(800, 3000)):
                a, b, c = (self.pick(string.ascii_letters) for _ in range(3))
                parts.append(self.pick([
                    f'function {a}{b}({c},e,t){{var n={c}.{self.camel()}||{{}};return n.{self.camel()}(e,t)}}',
                    f'{a}.headers={{Authorization:"Bearer "+{b}.token,"Content-Type":"application/json"}}',
                    f'var {a}{b}="{self.strlit()}",{c}={self.num()}',
                    f'{a}.apiKey={b}.apiKey||window.__ENV__.{self.env_name()}',
                    f'if(!{a}.password)throw new Error("{self.sentence(2, 5)}")',
                    f'{a}[{b}]=function(){{return{c}.{self.camel()}(arguments)}}',
                    f'"{self.hexs(8)}":function(e,t,n){{"use strict";n.d(t,{{{a}:function(){{return {b}}}}})}}',
                    f'{a}.secret=void 0,{a}.refreshToken=null',
                    f'sourceMappingURL="data:application/json;base64,{self.b64(self.r.randint(30, 120))}"',
                ]))
            yield [";".join(parts)]


# --------------------------------------------------------------------------------------------
# planted keys: every literal assembled at run time

def rand_from(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


def base62(n, width):
    s = ""
    while n:
        n, d = divmod(n, 62)
        s = BASE62[d] + s
    return s.rjust(width, "0")


def github_token(rng):
    body = rand_from(rng, ALNUM, 30)
    return "gh" + "p_" + body + base62(zlib.crc32(body.encode()), 6)


def planted_keys(rng):
    """(kind, preferred file kind, block of lines, index of the key's line in the block,
    number of lines the key spans, secret)."""
    keys = []
    pc = "pc" + "_" + "live" + "_" + rand_from(rng, ALNUM, 24)
    keys.append(("political-comms", "py",
                 ["", "political_comms = PoliticalCommsClient(", f'    api_key="{pc}",', '    base_url="https://api.politicalcomms.com/v1",', ")"],
                 2, 1, pc))
    cm = rand_from(rng, ALNUM, 30)
    keys.append(("communal", "js",
                 ['const res = await fetch("https://api.getcommunal.com/api/parent_programs", {',
                  f'  headers: {{ Authorization: "Bearer {cm}" }},',
                  "});", ""],
                 1, 1, cm))
    aws = "AK" + "IA" + rand_from(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    keys.append(("aws-access-key-id", "env", [f"AWS_ACCESS_KEY_ID={aws}", "AWS_DEFAULT_REGION=eu-west-1"], 0, 1, aws))
    gh = github_token(rng)
    keys.append(("github-pat", "dockerfile", [f"ENV GITHUB_TOKEN={gh}"], 0, 1, gh))
    sk = "sk" + "_live_" + "51" + rand_from(rng, ALNUM, 97)
    keys.append(("stripe-secret-key", "ts", [f"const stripe = new Stripe('{sk}', {{ apiVersion: '2024-06-20' }});", ""], 0, 1, sk))
    sl = "xo" + "xb-" + rand_from(rng, string.digits, 11) + "-" + rand_from(rng, string.digits, 13) + "-" + rand_from(rng, ALNUM, 24)
    keys.append(("slack-bot-token", "go", ["", f'\tslackToken := "{sl}"', '\tapi := slack.New(slackToken)'], 1, 1, sl))
    der = b"\x30\x82\x04\xa4\x02\x01\x00\x02\x82\x01\x01\x00" + rng.randbytes(1180)
    body = base64.b64encode(der).decode()
    pem_lines = ["-----BEGIN RSA " + "PRIVATE KEY-----"] + [body[i:i + 64] for i in range(0, len(body), 64)] + \
                ["-----END RSA " + "PRIVATE KEY-----"]
    keys.append(("private-key-rsa", "pem", pem_lines, 0, len(pem_lines), "\n".join(pem_lines)))
    pw = rand_from(rng, ALNUM + "!#%^*-_", 22)
    keys.append(("generic-password", "yaml",
                 ["  datasource:", "    url: jdbc:postgresql://db.internal:5432/ledger", "    username: ledger_app",
                  f'    password: "{pw}"'], 3, 1, pw))
    return keys


def small_file(rng):
    """A ~2 KB Python module holding one GitHub token."""
    g = Gen(rng)
    gh = github_token(rng)
    lines = ['"""Release helper: publishes build artifacts to the internal GitHub mirror."""', "",
             "import os", "import json", "import urllib.request", "", 'API = "https://api.github.com"',
             f'GITHUB_TOKEN = "{gh}"', ""]
    key_line = 8
    while sum(len(x) + 1 for x in lines) < 1900:
        lines += [f"def {g.snake()}({g.snake(1)}, {g.snake(1)}):", f'    """{g.sentence()}"""',
                  f"    {g.ref_lines_py()}", f'    req = urllib.request.Request(API + "/{g.snake(1)}", headers={{"Authorization": f"Bearer {{GITHUB_TOKEN}}"}})',
                  "    with urllib.request.urlopen(req) as resp:", "        return json.load(resp)", "", ""]
    return "\n".join(lines) + "\n", {"path": None, "line": key_line, "end_line": key_line, "kind": "github-pat", "secret": gh}


# --------------------------------------------------------------------------------------------
# layout

EXT = {"py": ".py", "js": ".js", "ts": ".ts", "go": ".go", "rs": ".rs", "java": ".java", "yaml": ".yaml",
       "json": ".json", "md": ".md", "tf": ".tf", "toml": ".toml", "sh": ".sh"}

# (kind, count); the rest of the size budget goes to the large files below.
MIX = [("py", 590), ("js", 300), ("ts", 360), ("go", 340), ("rs", 280), ("java", 300), ("yaml", 220),
       ("json", 160), ("md", 200), ("env", 30), ("dockerfile", 40), ("tf", 90), ("toml", 30), ("gosum", 20),
       ("sh", 30)]
N_MINJS = 4
N_LOCK = 6


def layout(rng, kind, i):
    g = Gen(rng)
    svc = f"{rng.choice(PKGS)}-{rng.choice(['api', 'svc', 'worker', 'service'])}"
    leaf = g.snake(rng.randint(1, 2))
    if kind == "py":
        return f"services/{svc}/{svc.split('-')[0]}/{rng.choice(['api', 'core', 'models', 'tests', 'utils'])}/{leaf}.py"
    if kind in ("js", "ts"):
        return f"web/{rng.choice(['dashboard', 'portal', 'admin', 'checkout'])}/src/{rng.choice(['components', 'hooks', 'api', 'utils', 'store'])}/{g.camel()}{EXT[kind]}"
    if kind == "go":
        return f"services/{svc}/internal/{rng.choice(PKGS)}/{leaf}.go"
    if kind == "rs":
        return f"crates/{rng.choice(PKGS)}-{rng.choice(['core', 'client', 'proto'])}/src/{leaf}.rs"
    if kind == "java":
        return f"services/{svc}/src/main/java/com/acme/{rng.choice(PKGS)}/{g.camel(upper=True)}.java"
    if kind == "yaml":
        if rng.random() < 0.3:
            return f".github/workflows/{leaf}.yml"
        return f"infra/k8s/{rng.choice(PKGS)}/{leaf}.yaml"
    if kind == "json":
        return f"{rng.choice(['config', 'fixtures', 'web/dashboard/public/locales', 'services/' + svc + '/testdata'])}/{leaf}.json"
    if kind == "md":
        return f"docs/{rng.choice(['guides', 'adr', 'runbooks', 'api'])}/{leaf.replace('_', '-')}.md"
    if kind == "env":
        return f"services/{svc}/.env{rng.choice(['', '.example', '.development', '.test'])}"
    if kind == "dockerfile":
        return f"services/{svc}/Dockerfile" if rng.random() < 0.7 else f"services/{svc}/docker/{leaf}.Dockerfile"
    if kind == "tf":
        return f"infra/terraform/{rng.choice(['prod', 'staging', 'dev'])}/{rng.choice(PKGS)}/{leaf}.tf"
    if kind == "toml":
        return f"crates/{rng.choice(PKGS)}-{leaf}/Cargo.lock"
    if kind == "gosum":
        return f"services/{svc}/go.sum"
    if kind == "sh":
        return f"scripts/{leaf}.sh"
    if kind == "minjs":
        return f"web/{['dashboard', 'portal', 'admin', 'checkout'][i % 4]}/dist/assets/index-{g.hexs(8)}.js"
    if kind == "lock":
        return f"web/{['dashboard', 'portal', 'admin', 'checkout', 'docs-site', 'storybook'][i % 6]}/package-lock.json"
    if kind == "pem":
        return "infra/ansible/files/deploy_staging.pem"
    raise ValueError(kind)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--megabytes", type=float, default=24.0, help="total size to aim at (MB = 10^6 bytes)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every file count (for quick tests)")
    ap.add_argument("--force", action="store_true", help="replace DIR if it exists")
    args = ap.parse_args()

    root = os.path.abspath(args.dir)
    if os.path.exists(root):
        if not args.force:
            sys.exit(f"{root} exists (use --force to replace it)")
        shutil.rmtree(root)
    rng = random.Random(args.seed)
    total_target = int(args.megabytes * 1_000_000)

    # Plan: (kind, relative path, target size).
    plan, used = [], set()

    def add(kind, i, size):
        for _ in range(100):
            p = layout(rng, kind, i)
            if p not in used:
                used.add(p)
                plan.append([kind, p, size])
                return
        raise RuntimeError("could not find a free path")

    scale = args.scale
    big = 0
    for i in range(N_MINJS):
        s = int(total_target * (0.09 if i == 0 else 0.05) * 1.0)
        add("minjs", i, s)
        big += s
    for i in range(N_LOCK):
        s = int(total_target * 0.025)
        add("lock", i, s)
        big += s
    small = []
    for kind, count in MIX:
        for i in range(max(1, int(count * scale))):
            small.append(min(rng.lognormvariate(0, 0.9), 12.0))
            add(kind, i, 0)
    budget = total_target - big
    weights = iter(small)
    wsum = sum(small)
    for entry in plan:
        if entry[0] not in ("minjs", "lock"):
            entry[2] = max(200, int(budget * next(weights) / wsum))

    # Generate every file as blocks of lines.
    files = {}
    for kind, path, size in plan:
        g = Gen(random.Random(rng.getrandbits(64)))
        gk = {"lock": "lockfile"}.get(kind, kind)
        files[path] = (kind, g.blocks(gk, size))

    # Plant the keys between blocks of a file of the right kind.
    manifest = []
    for kind, fkind, block, at, span, secret in planted_keys(rng):
        if fkind == "pem":
            path = layout(rng, "pem", 0)
            files[path] = ("pem", [block])
            pos = 0
        else:
            candidates = sorted(p for p, (k, _) in files.items() if k == fkind)
            path = rng.choice(candidates)
            blocks = files[path][1]
            pos = rng.randint(1, max(1, len(blocks) - 1))
            blocks.insert(pos, block)
        if pos == 0:
            line = 1 + at
        else:
            # Lines of a block may themselves hold newlines (statements that span lines).
            before = "\n".join("\n".join(b) for b in files[path][1][:pos])
            line = before.count("\n") + 2 + at
        manifest.append({"path": path, "line": line, "end_line": line + span - 1, "kind": kind, "secret": secret})

    total = 0
    for path, (kind, blocks) in sorted(files.items()):
        text = "\n".join("\n".join(b) for b in blocks) + "\n"
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        total += len(text.encode())

    # Check the manifest against what was written.
    for m in manifest:
        with open(os.path.join(root, m["path"]), encoding="utf-8") as f:
            lines = f.read().split("\n")
        first = m["secret"].split("\n")[0]
        assert first in lines[m["line"] - 1], (m["path"], m["line"], m["kind"])

    small_text, small_entry = small_file(random.Random(args.seed + 1))
    small_path = root.rstrip("/") + ".small.py"
    with open(small_path, "w", encoding="utf-8", newline="\n") as f:
        f.write(small_text)
    small_entry["path"] = small_path
    assert small_entry["secret"] in small_text.split("\n")[small_entry["line"] - 1]

    out = {"seed": args.seed, "root": root, "files": len(files), "bytes": total,
           "planted": manifest, "small": small_entry}
    with open(root.rstrip("/") + ".planted.json", "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print(f"wrote {len(files)} files, {total / 1e6:.1f} MB into {root}; {len(manifest)} planted keys; "
          f"manifest {root.rstrip('/')}.planted.json; small file {small_path} ({len(small_text)} bytes)")


if __name__ == "__main__":
    main()
