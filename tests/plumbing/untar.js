// Extract a .tgz with Node alone, as a consumer's Node code would: zlib.createGunzip()
// streaming into a small tar parser (ustar and GNU long names; files, directories, links).
// Usage: node untar.js <archive.tgz> <destination>
"use strict";
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");

const [archive, destination] = process.argv.slice(2);
let pending = Buffer.alloc(0);
let longName = null;
let current = null; // {remaining, padding, fd, collect}

function field(header, start, length) {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString("utf8");
}

function startEntry(header) {
  const size = parseInt(field(header, 124, 12).trim() || "0", 8);
  const type = String.fromCharCode(header[156] || 48);
  const mode = parseInt(field(header, 100, 8).trim() || "644", 8);
  const prefix = field(header, 345, 155);
  let name = longName || (prefix ? prefix + "/" : "") + field(header, 0, 100);
  longName = null;
  const target = path.join(destination, name);
  const entry = { remaining: size, padding: (512 - (size % 512)) % 512, fd: null, collect: null };
  if (type === "L") {
    entry.collect = [];
  } else if (type === "5") {
    fs.mkdirSync(target, { recursive: true });
  } else if (type === "2") {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.symlinkSync(field(header, 157, 100), target);
  } else {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    entry.fd = fs.openSync(target, "w", mode);
  }
  return entry;
}

function consume() {
  for (;;) {
    if (current === null) {
      if (pending.length < 512) return;
      const header = pending.subarray(0, 512);
      pending = pending.subarray(512);
      if (header.every((b) => b === 0)) continue;
      current = startEntry(header);
    }
    const take = Math.min(current.remaining, pending.length);
    if (take > 0) {
      const chunk = pending.subarray(0, take);
      if (current.fd !== null) fs.writeSync(current.fd, chunk);
      if (current.collect !== null) current.collect.push(Buffer.from(chunk));
      current.remaining -= take;
      pending = pending.subarray(take);
    }
    if (current.remaining > 0) return;
    if (pending.length < current.padding) return;
    pending = pending.subarray(current.padding);
    if (current.fd !== null) fs.closeSync(current.fd);
    if (current.collect !== null) longName = Buffer.concat(current.collect).toString("utf8").replace(/\0+$/, "");
    current = null;
  }
}

fs.createReadStream(archive)
  .pipe(zlib.createGunzip())
  .on("data", (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    consume();
  })
  .on("end", () => consume())
  .on("error", (error) => {
    console.error(error.message);
    process.exit(1);
  });
