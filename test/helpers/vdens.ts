// curl, run under `vdens` on a VNL with its own address: a real client that nobody here wrote.
import { ChildProcess, spawn } from 'node:child_process';

/**
 * Fetches `url` with curl from a vdens namespace on `vnl` at `ip`/24 and resolves with the body.
 * vdens itself sometimes does not exit after its command has (its own bridge's shutdown; seen
 * about 1 run in 4, with curl's answer already out), so curl's exit status is printed and read,
 * and vdens gets 2 s more before it is ended.
 */
export async function curlUnderVdens(vnl: string, ip: string, url: string, children: ChildProcess[]): Promise<string> {
  const shell = `ip link set vde0 up && ip addr add ${ip}/24 dev vde0 && ` +
    `curl -s -m 10 '${url}'; rc=$?; echo; echo "curl-exit=$rc"`;
  const vdens = spawn('vdens', [vnl, 'bash', '-c', shell], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(vdens);
  let out = '';
  let err = '';
  vdens.stderr!.on('data', (d) => { err += d; });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`curl gave no answer in 20 s: ${out}${err}`)), 20000);
    vdens.stdout!.on('data', (d) => {
      out += d;
      if (/curl-exit=\d+/.test(out)) { clearTimeout(timer); resolve(); }
    });
  });
  await Promise.race([new Promise((r) => vdens.once('exit', r)), new Promise((r) => setTimeout(r, 2000))]);
  const status = /curl-exit=(\d+)/.exec(out)?.[1];
  if (err || status !== '0') throw new Error(`curl under vdens: exit ${status}, ${err}`);
  return out.slice(0, out.lastIndexOf('\ncurl-exit='));
}
