// Chaton room page: live view over comet long-poll (web format), posting,
// nickname memory and an unread count in the title. No dependencies.
(() => {
  'use strict';
  const body = document.body;
  const cometUrl = body.dataset.comet;
  const postUrl = body.dataset.post;
  if (!cometUrl || !postUrl) return;

  const view = document.getElementById('view-pane');
  const statusLine = document.getElementById('status-line');
  const form = document.getElementById('post-form');
  const nickInput = form.elements.nick;
  const textInput = form.elements.text;
  const remember = form.elements.remember;
  const returnToPost = form.elements.returnToPost;
  const errorLine = document.getElementById('post-error');
  const baseTitle = document.title;
  const cookieName = 'chaton-nick';
  const cookiePath = body.dataset.cookiePath || '/';

  let cid = 0, pos = 0, ver = null, unread = 0;

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const between = (lo, hi) => lo + Math.random() * (hi - lo);

  function readCookie(name) {
    for (const part of document.cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === name) return decodeURIComponent(v.join('='));
    }
    return null;
  }
  function writeCookie(name, value, days) {
    const expires = new Date(Date.now() + days * 864e5).toUTCString();
    document.cookie = `${name}=${encodeURIComponent(value)}; expires=${expires}; path=${cookiePath}; SameSite=Lax`;
  }

  const saved = readCookie(cookieName);
  if (saved) { nickInput.value = saved; remember.checked = true; }

  function atBottom() { return view.scrollHeight - view.scrollTop - view.clientHeight < 8; }
  function showStatus(text) { statusLine.textContent = text; }
  function updateTitle() { document.title = unread > 0 ? `[${unread}] ${baseTitle}` : baseTitle; }
  document.addEventListener('visibilitychange', () => { if (!document.hidden) { unread = 0; updateTitle(); } });
  window.addEventListener('focus', () => { unread = 0; updateTitle(); });

  function apply(packet) {
    if (ver !== null && packet.ver !== ver) { location.reload(); return; }
    ver = packet.ver;
    cid = packet.cid;
    const stick = atBottom();
    if (packet.refresh) view.textContent = '';
    if (packet.content) {
      view.insertAdjacentHTML('beforeend', packet.content);
      if (document.hidden || !document.hasFocus()) {
        unread += (packet.content.match(/class="permalink-anchor"/g) || []).length;
        updateTitle();
      }
      if (stick) view.scrollTop = view.scrollHeight;
    }
    pos = packet.pos;
    showStatus(`Connected (${packet.nc} ${packet.nc === 1 ? 'user' : 'users'} chatting)`);
  }

  async function pollLoop() {
    showStatus('Connecting...');
    for (;;) {
      let newContent = false;
      try {
        const url = `${cometUrl}?t=${Date.now()}&c=${cid}&p=${pos}`;
        const res = await fetch(url, { cache: 'no-store' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const packet = await res.json();
        newContent = Boolean(packet.content);
        apply(packet);
      } catch (e) {
        showStatus('Connection lost. Retrying...');
        await sleep(between(5000, 15000));
        continue;
      }
      await sleep(between(0, newContent ? 1000 : 3000));
    }
  }

  async function send() {
    errorLine.textContent = '';
    const nick = nickInput.value.trim(), text = textInput.value;
    if (!nick) { errorLine.textContent = 'Please enter a nickname.'; nickInput.focus(); return; }
    if (!text.trim()) return;
    if (remember.checked) writeCookie(cookieName, nick, 365); else writeCookie(cookieName, '', -1);
    const fields = form.querySelectorAll('input, textarea, button');
    fields.forEach((f) => { f.disabled = true; });
    try {
      const res = await fetch(postUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ nick, text, cid: String(cid) }),
      });
      if (res.ok) textInput.value = '';
      else errorLine.textContent = (await res.text()).trim() || `Posting failed (HTTP ${res.status}).`;
    } catch (e) {
      errorLine.textContent = 'Posting failed: the server could not be reached.';
    } finally {
      fields.forEach((f) => { f.disabled = false; });
      textInput.focus();
    }
  }

  form.addEventListener('submit', (ev) => { ev.preventDefault(); send(); });
  textInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && returnToPost.checked) {
      ev.preventDefault();
      send();
    }
  });

  pollLoop();
})();
