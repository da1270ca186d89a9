#!/usr/bin/env node
// The reference engine: Hugging Face `tokenizers` (the Rust library, npm
// package 0.23.2) encoding with add_special_tokens=false.
//
//   node hf_ids.js [--ids] [--tokenizer] X < lines
//       One JSON string per input line; one output line per input: the
//       token count, or with --ids the JSON array of ids. A line that is
//       not a JSON string is reported as stdin:LINE and skipped (exit 1),
//       as `metricsd tokenize` does. X is resolved as metricsd resolves
//       it (a tokenizer.json, a directory holding one, or a hub id ORG/NAME
//       in the local Hugging Face cache; exit 2 listing the places looked),
//       so this script stands in for `metricsd tokenize` when testing the
//       tests (METRICSD_TOKENIZE_CMD in test_tokenize_exact.sh).
//   node hf_ids.js --bench TOKENIZER_JSON < lines
//       Load time and single-threaded encode throughput, one JSON object
//       on stdout: load_s, load_cpu_s, texts, tokens, bytes, encode_s,
//       cpu_s, tokens_per_s, texts_per_s, tokens_per_cpu_s,
//       texts_per_cpu_s (of the better by CPU time of one-at-a-time
//       encode() and encodeBatch() with TOKENIZERS_PARALLELISM=false), and
//       both runs. CPU time (user + system, all threads) is the figure
//       that holds on a busy machine; wall time is given too.
//
//   r50k mode: node hf_ids.js --r50k [--ids] < lines
//       The same output from gpt-tokenizer's own r50k_base encoder (with
//       <|endoftext|> as a special token), to check the generated GPT-2
//       file (scripts/r50k_to_tokenizer_json.py).
//
// The packages are found in $METRICSD_TOKDATA/node_modules (scripts/tokdeps).
'use strict';

// One thread: the Rust side must not parallelize a batch, and the
// async encode() runs on libuv's pool, which then has one thread.
process.env.TOKENIZERS_PARALLELISM = 'false';
process.env.RAYON_NUM_THREADS = '1';
process.env.UV_THREADPOOL_SIZE = '1';

const fs = require('fs');
const path = require('path');

function die(msg, code) {
	process.stderr.write('hf_ids: ' + msg + '\n');
	process.exit(code === undefined ? 1 : code);
}

function tokdata() {
	const d = process.env.METRICSD_TOKDATA || '/var/cache/metricsd/tok';
	if (!fs.existsSync(path.join(d, 'node_modules')))
		die(d + '/node_modules missing: run make deps (scripts/tokdeps)');
	return d;
}

// --tokenizer X: a file, a directory holding tokenizer.json, or a hub id
// ORG/NAME looked up offline as huggingface_hub lays out its cache.
function resolve(x) {
	const looked = [];
	const isFile = (p) => {
		looked.push(p);
		try {
			return fs.statSync(p).isFile();
		} catch (e) {
			return false;
		}
	};
	if (isFile(x))
		return x;
	if (isFile(path.join(x, 'tokenizer.json')))
		return path.join(x, 'tokenizer.json');
	const m = /^([^/]+)\/([^/]+)$/.exec(x);
	if (m) {
		const env = process.env;
		const root = env.HF_HUB_CACHE || (env.HF_HOME ? path.join(env.HF_HOME, 'hub')
		    : path.join(env.HOME || '/', '.cache/huggingface/hub'));
		const repo = path.join(root, 'models--' + m[1] + '--' + m[2]);
		let rev = null;
		try {
			rev = fs.readFileSync(path.join(repo, 'refs/main'), 'utf8').trim();
		} catch (e) {
			looked.push(path.join(repo, 'refs/main'));
		}
		if (rev !== null && isFile(path.join(repo, 'snapshots', rev, 'tokenizer.json')))
			return path.join(repo, 'snapshots', rev, 'tokenizer.json');
	}
	die("tokenizer '" + x + "' not found; looked at: " + looked.join(', '), 2);
}

// Parse stdin into strings; bad lines are reported and become null.
function readLines() {
	const text = fs.readFileSync(0, 'utf8');
	const lines = text.split('\n');
	if (lines.length && lines[lines.length - 1] === '')
		lines.pop();
	let bad = 0;
	const out = lines.map((l, i) => {
		let v;
		try {
			v = JSON.parse(l);
		} catch (e) {
			v = undefined;
		}
		if (typeof v !== 'string') {
			process.stderr.write('stdin:' + (i + 1) + ': not a JSON string\n');
			bad++;
			return null;
		}
		return v;
	});
	return { texts: out, bad };
}

function emit(results, ids) {
	const chunks = [];
	let size = 0;
	for (const r of results) {
		if (r === null)
			continue;
		const s = (ids ? JSON.stringify(r) : String(r.length)) + '\n';
		chunks.push(s);
		size += s.length;
		if (size > 1 << 20) {
			fs.writeSync(1, chunks.join(''));
			chunks.length = 0;
			size = 0;
		}
	}
	if (chunks.length)
		fs.writeSync(1, chunks.join(''));
}

async function hfEncodeAll(tk, texts) {
	const res = [];
	for (const t of texts)
		res.push(t === null ? null
		    : (await tk.encode(t, null, { addSpecialTokens: false })).getIds());
	return res;
}

async function hfBatchAll(tk, texts, n) {
	const res = [];
	for (let i = 0; i < texts.length; i += n) {
		const part = texts.slice(i, i + n);
		const enc = await tk.encodeBatch(part, { addSpecialTokens: false });
		for (const e of enc)
			res.push(e.getIds());
	}
	return res;
}

// gpt-tokenizer's own special-token splitting mangles adjacent specials
// (4.0.0: "<|endoftext|><|endoftext|>" gives 50256 then the second as
// text), so split on <|endoftext|> here, as an added special token with
// no lstrip/rstrip does, and let it encode the plain text between.
function r50kEncoder() {
	const g = require(path.join(tokdata(), 'node_modules/gpt-tokenizer/cjs/encoding/r50k_base.js'));
	const plain = { allowedSpecial: new Set(), disallowedSpecial: new Set() };
	return (t) => {
		const ids = [];
		t.split('<|endoftext|>').forEach((part, i) => {
			if (i)
				ids.push(50256);
			if (part !== '')
				for (const id of g.encode(part, plain))
					ids.push(id);
		});
		return ids;
	};
}

async function main() {
	const args = process.argv.slice(2);
	let mode = 'count', file = null, r50k = false;
	for (const a of args) {
		if (a === '--ids')
			mode = 'ids';
		else if (a === '--bench')
			mode = 'bench';
		else if (a === '--r50k')
			r50k = true;
		else if (a === '--tokenizer')
			continue;
		else if (a.startsWith('-') || file !== null)
			die('usage: hf_ids.js [--ids|--bench] [--tokenizer] X | --r50k [--ids]', 2);
		else
			file = a;
	}
	if (r50k) {
		if (file !== null || mode === 'bench')
			die('--r50k takes no file and no --bench', 2);
		const enc = r50kEncoder();
		const { texts, bad } = readLines();
		emit(texts.map((t) => (t === null ? null : enc(t))), mode === 'ids');
		process.exit(bad ? 1 : 0);
	}
	if (file === null)
		die('no tokenizer.json given', 2);
	const hf = require(path.join(tokdata(), 'node_modules/tokenizers'));
	file = resolve(file);

	const t0 = process.hrtime.bigint();
	const c0 = process.cpuUsage();
	let tk;
	try {
		tk = hf.Tokenizer.fromFile(file);
	} catch (e) {
		die(file + ': ' + e.message, 2);
	}
	const loadS = Number(process.hrtime.bigint() - t0) / 1e9;
	const lc = process.cpuUsage(c0);
	const loadCpu = (lc.user + lc.system) / 1e6;

	const { texts, bad } = readLines();
	if (mode !== 'bench') {
		emit(await hfEncodeAll(tk, texts), mode === 'ids');
		process.exit(bad ? 1 : 0);
	}

	const good = texts.filter((t) => t !== null);
	const bytes = good.reduce((n, t) => n + Buffer.byteLength(t), 0);
	const runs = {};
	let best = null;
	for (const [name, fn] of [
		['encode', () => hfEncodeAll(tk, good)],
		['encodeBatch64', () => hfBatchAll(tk, good, 64)],
	]) {
		const s = process.hrtime.bigint();
		const c = process.cpuUsage();
		const res = await fn();
		const secs = Number(process.hrtime.bigint() - s) / 1e9;
		const cu = process.cpuUsage(c);
		const cpu = (cu.user + cu.system) / 1e6;
		const tokens = res.reduce((n, r) => n + r.length, 0);
		runs[name] = { encode_s: secs, cpu_s: cpu, tokens,
		    tokens_per_s: tokens / secs, texts_per_s: good.length / secs,
		    tokens_per_cpu_s: tokens / cpu, texts_per_cpu_s: good.length / cpu };
		if (best === null || runs[name].tokens_per_cpu_s > best.tokens_per_cpu_s)
			best = runs[name];
	}
	process.stdout.write(JSON.stringify({
		load_s: loadS, load_cpu_s: loadCpu, texts: good.length, bytes,
		tokens: best.tokens, encode_s: best.encode_s, cpu_s: best.cpu_s,
		tokens_per_s: best.tokens_per_s, texts_per_s: best.texts_per_s,
		tokens_per_cpu_s: best.tokens_per_cpu_s,
		texts_per_cpu_s: best.texts_per_cpu_s, runs,
	}) + '\n');
	process.exit(bad ? 1 : 0);
}

main().catch((e) => die(e.stack || String(e)));
