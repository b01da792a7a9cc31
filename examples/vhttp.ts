// iothpy's vhttp.py: Node's own http server, unchanged, moved onto a virtual stack with
// override(stack). It serves the files of a directory at 10.0.0.1:8000.
// Usage: node dist/examples/vhttp.js VNL [DIR=.]     then, from the VNL:  curl http://10.0.0.1:8000/FILE
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { override, Stack } from 'iothts';

const [vnl, dir = '.'] = process.argv.slice(2);
if (!vnl) {
  console.error('usage: vhttp VNL [DIR]');
  process.exit(2);
}
const stack = new Stack('vdestack', vnl);
stack.config('eth,ip=10.0.0.1/24');
override(stack); // from here on, every socket of this process is on the stack

const root = path.resolve(dir);
http.createServer((req, res) => {
  const file = path.join(root, path.normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
  if (!file.startsWith(root)) {
    res.writeHead(403).end();
    return;
  }
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-length': st.size });
    fs.createReadStream(file).pipe(res);
  });
}).listen(8000, () => console.log(`serving ${root} on http://10.0.0.1:8000/`));
