'use strict';
// Starts a real nnft-server for the tests on port 0 with a temporary data
// dir; the binary comes from $NNFT_SERVER_BINARY (CTest sets it). The port is
// read from the "listening address=HOST:PORT" line it prints (stdout or
// stderr).

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const START_TIMEOUT_MS = 30000;

function serverBinary() {
  const bin = process.env.NNFT_SERVER_BINARY || '';
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    return null;
  }
  return bin;
}

/** Resolves to { address, port, proc, log, stop() -> exit code }. */
function startServer({ listen = '127.0.0.1:0', threads = 2,
                       extraArgs = [] } = {}) {
  const bin = serverBinary();
  if (!bin) throw new Error('NNFT_SERVER_BINARY is not an executable');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnft-node-test-'));
  const proc = spawn(bin, [`--listen=${listen}`, `--data_dir=${dataDir}`,
                           `--worker_threads=${threads}`, ...extraArgs],
                     { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = { proc, log: '', address: null, dataDir };
  server.stop = () => new Promise((resolve) => {
    const done = (code, signal) => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      resolve(code === null ? signal : code);
    };
    if (proc.exitCode !== null || proc.signalCode !== null) {
      done(proc.exitCode, proc.signalCode);
      return;
    }
    const kill = setTimeout(() => proc.kill('SIGKILL'), 30000);
    proc.once('exit', (code, signal) => {
      clearTimeout(kill);
      done(code, signal);
    });
    proc.kill('SIGTERM');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`nnft-server did not start:\n${server.log}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk) => {
      server.log += chunk;
      const m = /listening address=(\S+):(\d+)/.exec(server.log);
      if (m && !server.address) {
        const host = ['0.0.0.0', '[::]', '::'].includes(m[1]) ? '127.0.0.1' :
          m[1];
        server.port = Number(m[2]);
        server.address = `${host}:${m[2]}`;
        clearTimeout(timer);
        resolve(server);
      }
    };
    for (const stream of [proc.stdout, proc.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', onData);
    }
    proc.once('exit', (code) => {
      clearTimeout(timer);
      if (!server.address) reject(new Error(`nnft-server exited ${code}:\n${server.log}`));
    });
  });
}

module.exports = { serverBinary, startServer };
