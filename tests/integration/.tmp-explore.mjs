import { startServer, post, request, get, rawExchange, readAlist } from './lib/server.mjs';
const s = await startServer(null, {});
const u = s.roomUrl();
try {
  let r = await post(u, Buffer.from('nick=太郎&text=こんにちは world'), { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  console.log('raw utf8 form', r.status, r.text);
  r = await post(u, Buffer.from('nick=a&text=x y'), { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  console.log('raw space', r.status, r.text);
  r = await post(u, Buffer.from('nick=a&text=50%'), { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  console.log('lone %', r.status, r.text);
  r = await get(u + 'comet?c=&p=0&s=0');
  console.log(r.text);
  r = await post(u, {nick:'a', text:'x\u00a0'});
  r = await get(u + 'comet?c=&p=0&s=0');
  console.log(JSON.stringify(JSON.parse(r.text).content.at(-1)[2]));
} finally { await s.stop(); }
