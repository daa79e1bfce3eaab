// Chaton in the browser: the room page's live view and post form, and the
// Copy buttons of the badge page. Modern JavaScript, no dependencies, no
// inline code anywhere (the pages are served with a strict CSP).
//
// How packets arrive is the business of one small part, the transport: it
// hands every packet of the room's stream ({pos, nc, ver, cid, content,
// refresh}, the comet "web" format whose content is ready-made HTML, so the
// server's one renderer draws every post) to the page and reports its
// connection state. The page uses Server-Sent Events (streamTransport) and
// falls back to the original long-poll (longPollTransport) where a stream
// cannot get through.
(() => {
  'use strict';

  const sleep = (ms, signal) => new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
  const between = (lo, hi) => lo + Math.random() * (hi - lo);

  // ------------------------------------------------------------ transport

  const SILENCE_LIMIT_MS = 8 * 60 * 1000;  // no reply for this long: the connection is lost

  // Waits after the n-th failure in a row: 5-15 s at first (as the original
  // client), doubling, at most 40-120 s; the randomness spreads reconnecting
  // clients out.
  function backoff(failures) {
    const base = Math.min(5000 * 2 ** (failures - 1), 40000);
    return between(base, 3 * base);
  }

  // The original long-poll protocol (docs/PROTOCOL.md, "The comet long-poll"):
  // GET comet?c=CID&p=POS; the reply comes when the room has news, or as a ping
  // now and then.
  //   onPacket(packet)         every reply
  //   onConnecting()           before the first request
  //   onLost(retryMs)          a request failed; the next try is in retryMs
  function longPollTransport(cometUrl, { onPacket, onConnecting, onLost }, from = { cid: 0, pos: 0 }) {
    let cid = from.cid;
    let pos = from.pos;
    let failures = 0;
    let wake = new AbortController();  // cuts a wait short (the network came back)

    window.addEventListener('online', () => wake.abort());

    async function request() {
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), SILENCE_LIMIT_MS);
      try {
        const res = await fetch(`${cometUrl}?t=${Date.now()}&c=${cid}&p=${pos}`, {
          cache: 'no-store',
          signal: abort.signal,
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return await res.json();
      } finally {
        clearTimeout(timer);
      }
    }

    async function run() {
      onConnecting();
      for (;;) {
        let packet;
        try {
          packet = await request();
        } catch {
          failures += 1;
          const delay = backoff(failures);
          onLost(delay);
          wake = new AbortController();
          await sleep(delay, wake.signal);
          continue;
        }
        failures = 0;
        if (packet.cid < 0) cid = 0;  // expired: ask again as a new client
        else cid = packet.cid;
        pos = packet.pos;
        onPacket(packet);
        // Spread the load: a short random pause before asking again.
        await sleep(between(0, packet.content ? 1000 : 3000));
      }
    }

    return { start: run, get cid() { return cid; }, kind: 'comet' };
  }

  const FIRST_PACKET_MS = 10000;  // a stream must deliver its first packet within this

  // Server-Sent Events: GET events?s=web&p=POS, one long-lived response
  // carrying the same packets (the first at once). Chosen over WebSocket for
  // the page because the page only listens (posts are plain POSTs), and an
  // event stream is ordinary HTTP: it passes proxies and TLS terminators
  // that pass the page, reconnects by itself, and resumes by pos. Chosen
  // over the long-poll for one connection per visit instead of one request
  // per packet, and no random pause before news arrives.
  //
  // A stream that never delivers (no EventSource, a proxy that refuses or
  // buffers event streams) hands over to the long-poll, which gets through
  // wherever plain requests do. Once a stream has worked, a broken one is
  // reopened after the same randomised back-off as the long-poll, from the
  // last pos (never by EventSource's own fixed retry, which would bring every
  // reader back at once after a restart).
  function streamTransport(eventsUrl, cometUrl, callbacks) {
    const { onPacket, onConnecting, onLost } = callbacks;
    let cid = 0;
    let pos = 0;
    let failures = 0;
    let worked = false;   // some stream has delivered a packet
    let fallback = null;  // the long-poll, once handed over to
    let wake = new AbortController();

    window.addEventListener('online', () => wake.abort());

    function handOver() {
      fallback = longPollTransport(cometUrl, callbacks, { cid, pos });
      fallback.start();
    }

    function open() {
      let delivered = false;
      let closed = false;
      const source = new EventSource(`${eventsUrl}?s=web&p=${pos}`);
      const broken = async () => {
        if (closed) return;
        closed = true;
        clearTimeout(firstTimer);
        source.close();
        if (!worked) return handOver();
        failures += 1;
        const delay = backoff(failures);
        onLost(delay);
        wake = new AbortController();
        await sleep(delay, wake.signal);
        open();
      };
      const firstTimer = setTimeout(() => { if (!delivered) broken(); }, FIRST_PACKET_MS);
      source.onmessage = (ev) => {
        let packet;
        try { packet = JSON.parse(ev.data); } catch { return; }
        if (!delivered) clearTimeout(firstTimer);
        delivered = true;
        worked = true;
        failures = 0;
        cid = packet.cid;
        pos = packet.pos;
        onPacket(packet);
      };
      source.onerror = () => { if (source.readyState !== EventSource.OPEN) broken(); };
    }

    function start() {
      if (typeof EventSource !== 'function') return handOver();
      onConnecting();
      open();
    }

    return {
      start,
      get cid() { return fallback ? fallback.cid : cid; },
      get kind() { return fallback ? fallback.kind : 'events'; },
    };
  }

  // ------------------------------------------------------------ posts in the reader's time

  // What the script adds to the posts the server renders (docs/PROTOCOL.md,
  // "Rendering"), in the live view, an archive day and search results:
  // each <time datetime> (UTC text, for a page without script) shows the
  // reader's local time of day, with the date where the day changes;
  // day separators ("Today", "Yesterday", a date, in the reader's zone) go
  // before the first post of each day; each permalink is named with the
  // local time. A post is the server's run of [header] anchor entry.
  const timeOfDay = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
  const dateAndTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const longDate = new Intl.DateTimeFormat(undefined, {
    weekday: 'long', year: 'numeric', month: 'long', day: 'numeric',
  });
  const fullTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' });
  const localDay = (d) => `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;

  function dayLabel(when, now = new Date()) {
    if (localDay(when) === localDay(now)) return 'Today';
    const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
    if (localDay(when) === localDay(yesterday)) return 'Yesterday';
    return longDate.format(when);
  }

  // "Today" becomes "Yesterday" after midnight: labels are refreshed now and then.
  function relabelDays(root) {
    const now = new Date();
    for (const sep of root.querySelectorAll('.day-separator')) {
      const label = dayLabel(new Date(Number(sep.dataset.day)), now);
      if (sep.textContent !== label) {
        sep.firstChild.textContent = label;
        sep.setAttribute('aria-label', label);
      }
    }
  }

  function daySeparator(when) {
    const sep = document.createElement('div');
    sep.className = 'day-separator';
    sep.setAttribute('role', 'separator');
    sep.dataset.day = String(new Date(when.getFullYear(), when.getMonth(), when.getDate()).getTime());
    const label = dayLabel(when);
    sep.setAttribute('aria-label', label);
    sep.append(document.createElement('span'));
    sep.firstChild.textContent = label;
    return sep;
  }

  //   separators     put day separators before each new local day
  //   onPost(post)   for each post: { start, entry, nick, when }, start being
  //                  its first element (header or permalink)
  // Returns add(nodes): decorates those nodes (in order, after the ones
  // before), and reset() for a view that starts over.
  function postDecorator({ separators = false, onPost = null } = {}) {
    let lastDay = null;
    let nick = '';
    let header = null;      // the header of the post being read
    let lastHeader = null;  // the one before, for a run that crosses midnight
    let post = null;
    function add(nodes) {
      for (const el of Array.from(nodes)) {
        if (el.nodeType !== Node.ELEMENT_NODE) continue;
        if (el.classList.contains('entry-header')) {
          header = el;
          lastHeader = el;
          nick = el.querySelector('.chatter')?.textContent ?? '';
        } else if (el.classList.contains('permalink-anchor')) {
          const m = /^anchor-entry-([0-9a-f]+)-/.exec(el.id);
          if (!m) continue;
          const when = new Date(parseInt(m[1], 16) * 1000);
          const newDay = localDay(when) !== lastDay;
          lastDay = localDay(when);
          if (newDay && separators && !header && lastHeader) {
            // A run of posts (one header) that crosses midnight in the
            // reader's zone: the new day starts with the nick again.
            header = lastHeader.cloneNode(true);
            header.querySelector('time[datetime]')?.setAttribute('datetime', when.toISOString().replace(/\.\d+Z$/, 'Z'));
            el.before(header);
            lastHeader = header;
          }
          const start = header || el;
          if (newDay && separators) start.before(daySeparator(when));
          const time = header?.querySelector('time[datetime]');
          if (time) {
            // With separators the day is said there; without, where it changes.
            time.textContent = (newDay && !separators ? dateAndTime : timeOfDay).format(when);
            time.title = fullTime.format(when);
          }
          el.setAttribute('aria-label', `Permalink to the post by ${nick} at ${fullTime.format(when)}`);
          post = { start, nick, when, entry: null };
          header = null;
        } else if (post && (el.classList.contains('entry-single') || el.classList.contains('entry-multi'))) {
          post.entry = el;
          onPost?.(post);
          post = null;
        }
      }
    }
    function reset() {
      lastDay = null;
      header = null;
      lastHeader = null;
      post = null;
    }
    return { add, reset };
  }

  // An archive day or search results: times in the reader's zone.
  function localizePosts() {
    const day = document.querySelector('.day-posts');
    if (day) {
      postDecorator({ separators: true }).add(day.children);
      const note = document.querySelector('.time-zone-note');
      const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (note) note.textContent = `; times are in your time zone${zone ? ` (${zone})` : ''}`;
    }
    const hits = document.querySelector('ol.hits');
    if (hits) {
      const decorate = postDecorator();
      for (const hit of hits.children) decorate.add(hit.children);
    }
  }

  // ------------------------------------------------------------ room page

  function initRoom(body) {
    const view = document.getElementById('view-pane');
    const jump = document.getElementById('jump-latest');
    const statusLine = document.getElementById('status-line');
    const form = document.getElementById('post-form');
    const fields = document.getElementById('post-fields');
    const nickInput = document.getElementById('nick');
    const textInput = document.getElementById('text');
    const remember = document.getElementById('remember');
    const returnToPost = document.getElementById('return-to-post');
    const errorLine = document.getElementById('post-error');
    const notifyControl = document.getElementById('notify-control');
    const notifyBox = document.getElementById('notify-mentions');
    const baseTitle = document.title;
    const roomName = document.querySelector('.room-title h1')?.textContent ?? baseTitle;
    const cookieName = 'chaton-nick';
    const cookiePath = body.dataset.cookiePath || '/';
    const returnKey = 'chaton-return-to-post';

    let ver = null;
    let unread = 0;
    let loaded = false;     // the first reply (with the backlog) has arrived
    let stickNext = false;  // scroll to the newest post once (after our own post)
    let sending = false;

    // --- nickname memory ("Remember me": a cookie, as the original)
    function readCookie(name) {
      for (const part of document.cookie.split(';')) {
        const eq = part.indexOf('=');
        if (eq >= 0 && part.slice(0, eq).trim() === name) {
          try { return decodeURIComponent(part.slice(eq + 1).trim()); } catch { return null; }
        }
      }
      return null;
    }
    function writeCookie(name, value, days) {
      const expires = new Date(Date.now() + days * 864e5).toUTCString();
      document.cookie = `${name}=${encodeURIComponent(value)}; expires=${expires}; path=${cookiePath}; SameSite=Lax`;
    }
    function rememberNick() {
      const nick = nickInput.value.trim();
      if (remember.checked && nick) writeCookie(cookieName, nick, 365);
      else if (!remember.checked) writeCookie(cookieName, '', -1);
    }
    const saved = readCookie(cookieName);
    if (saved) {
      nickInput.value = saved;
      remember.checked = true;
    }
    remember.addEventListener('change', rememberNick);
    nickInput.addEventListener('change', rememberNick);

    try {
      if (localStorage.getItem(returnKey) === 'off') returnToPost.checked = false;
      returnToPost.addEventListener('change', () => {
        localStorage.setItem(returnKey, returnToPost.checked ? 'on' : 'off');
      });
    } catch { /* storage disabled: the box just starts checked */ }

    // --- status line and title
    function showStatus(text) {
      if (statusLine.textContent !== text) statusLine.textContent = text;
    }
    const away = () => document.hidden || !document.hasFocus();
    function showUnread() {
      document.title = unread > 0 ? `[${unread}] ${baseTitle}` : baseTitle;
    }
    function seen() {
      if (away()) return;
      unread = 0;
      showUnread();
    }
    document.addEventListener('visibilitychange', seen);
    window.addEventListener('focus', seen);

    // --- mentions of the reader's nickname: highlighted, and notified while
    // the tab is hidden if the reader asked for it
    const escapeRegExp = (t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    let mentionNick = null;
    let mentionRe = null;
    function mentions(text, poster) {
      const nick = nickInput.value.trim();
      if (nick !== mentionNick) {
        mentionNick = nick;
        // The nick as a word of its own, in any case.
        mentionRe = nick ? new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegExp(nick)}(?![\\p{L}\\p{N}_])`, 'iu') : null;
      }
      if (!mentionRe || poster.toLowerCase() === nick.toLowerCase()) return false;
      return mentionRe.test(text);
    }
    function markMention(entry) {
      entry.classList.toggle('mention', mentions(entry.textContent, entry.dataset.nick ?? ''));
      return entry.classList.contains('mention');
    }
    nickInput.addEventListener('input', () => {
      for (const entry of view.querySelectorAll('.entry-single, .entry-multi')) markMention(entry);
    });

    const notifyKey = 'chaton-notify-mentions';
    const canNotify = typeof Notification === 'function';
    if (canNotify) {
      notifyControl.hidden = false;
      try {
        notifyBox.checked = localStorage.getItem(notifyKey) === 'on' && Notification.permission === 'granted';
      } catch { /* storage disabled */ }
      // Permission is asked only here, when the reader ticks the box.
      notifyBox.addEventListener('change', async () => {
        if (notifyBox.checked && Notification.permission !== 'granted') {
          let answer = 'denied';
          try { answer = await Notification.requestPermission(); } catch { /* refused */ }
          if (answer !== 'granted') {
            notifyBox.checked = false;
            showError('Notifications are not allowed for this page in this browser.');
          }
        }
        try { localStorage.setItem(notifyKey, notifyBox.checked ? 'on' : 'off'); } catch { /* storage disabled */ }
      });
    }
    function notifyMention(post) {
      if (!canNotify || !notifyBox.checked || !document.hidden || Notification.permission !== 'granted') return;
      try {
        const note = new Notification(`${post.nick} mentioned you in ${roomName}`, {
          body: post.entry.textContent.slice(0, 200),
          tag: 'chaton-mention',
        });
        note.onclick = () => { window.focus(); note.close(); };
      } catch { /* some browsers only notify from a service worker */ }
    }

    // --- where unread posts begin: the first post that arrives while the
    // tab is hidden gets a marker before it, which stays until the next
    // time (it moves) or until the reader posts (it goes)
    let unreadMarker = null;
    let markNext = false;
    let markedWhileHidden = false;
    function placeUnreadMarker(start) {
      unreadMarker?.remove();
      unreadMarker = document.createElement('div');
      unreadMarker.className = 'unread-marker';
      unreadMarker.setAttribute('role', 'separator');
      unreadMarker.setAttribute('aria-label', 'Unread posts start here');
      unreadMarker.append(document.createElement('span'));
      unreadMarker.firstChild.textContent = 'New';
      start.before(unreadMarker);
      markNext = false;
      markedWhileHidden = true;
    }
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) {
        markNext = true;
        markedWhileHidden = false;
        return;
      }
      markNext = false;
      // Back: show where the unread posts begin if it has scrolled away.
      if (markedWhileHidden && unreadMarker
          && unreadMarker.getBoundingClientRect().top < view.getBoundingClientRect().top) {
        unreadMarker.scrollIntoView({ block: 'start' });
      }
      markedWhileHidden = false;
    });

    let freshBatch = false;  // the posts being added are new ones, not the backlog
    const decorator = postDecorator({
      separators: true,
      onPost: (post) => {
        post.entry.dataset.nick = post.nick;
        if (!freshBatch) {
          markMention(post.entry);
          return;
        }
        if (markNext) placeUnreadMarker(post.start);
        if (markMention(post.entry)) notifyMention(post);
      },
    });

    // --- the view
    const atBottom = () => view.scrollHeight - view.scrollTop - view.clientHeight < 32;
    function scrollToEnd() {
      view.scrollTop = view.scrollHeight;
      jump.hidden = true;
    }
    view.addEventListener('scroll', () => { if (atBottom()) jump.hidden = true; }, { passive: true });
    jump.addEventListener('click', () => { scrollToEnd(); view.focus(); });
    // Images load after they are inserted: keep a reader who was at the end there.
    view.addEventListener('load', (ev) => {
      if (ev.target.tagName === 'IMG' && view.dataset.stuck === 'yes') view.scrollTop = view.scrollHeight;
    }, true);

    const countPosts = (html) => (html.match(/class="permalink-anchor"/g) || []).length;

    function onPacket(packet) {
      if (ver !== null && packet.ver !== ver) {  // the server was upgraded
        location.reload();
        return;
      }
      ver = packet.ver;
      const nc = Number(packet.nc) || 0;
      showStatus(`Connected (${nc} ${nc === 1 ? 'user' : 'users'} chatting)`);
      if (packet.refresh) {
        view.replaceChildren();
        decorator.reset();
        unreadMarker = null;
      }
      // The first reply (or one that starts over) brings what was said before.
      const backlog = !loaded || Boolean(packet.refresh);
      loaded = true;
      relabelDays(view);
      if (!packet.content) return;

      const stick = backlog || stickNext || atBottom();
      stickNext = false;
      if (backlog) view.setAttribute('aria-busy', 'true');  // the backlog is not read out
      const before = view.lastChild;
      view.insertAdjacentHTML('beforeend', packet.content);
      const added = [];
      for (let n = before ? before.nextSibling : view.firstChild; n; n = n.nextSibling) added.push(n);
      freshBatch = !backlog;
      decorator.add(added);
      if (backlog) {
        view.removeAttribute('aria-busy');
      } else if (away()) {
        unread += countPosts(packet.content);
        showUnread();
      }
      view.dataset.stuck = stick ? 'yes' : 'no';
      if (stick) scrollToEnd();
      else jump.hidden = false;
    }

    const transport = streamTransport(body.dataset.events, body.dataset.comet, {
      onPacket: (packet) => {
        body.dataset.transport = transport.kind;  // which one got through (for tests and bug reports)
        onPacket(packet);
      },
      onConnecting: () => showStatus('Connecting...'),
      onLost: (ms) => showStatus(`Connection lost. Retrying in ${Math.round(ms / 1000)} s...`),
    });

    // --- posting
    function showError(text) { errorLine.textContent = text; }

    async function send() {
      if (sending) return;
      const nick = nickInput.value.trim();
      const text = textInput.value;
      if (!nick) {
        showError('Please enter a nickname.');
        nickInput.focus();
        return;
      }
      if (!text.trim()) {
        textInput.focus();
        return;
      }
      rememberNick();
      sending = true;
      fields.disabled = true;
      form.setAttribute('aria-busy', 'true');
      try {
        const res = await fetch(body.dataset.post, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ nick, text, cid: String(transport.cid) }),
        });
        if (res.ok) {
          unreadMarker?.remove();  // the reader has caught up
          unreadMarker = null;
          textInput.value = '';
          showError('');
          stickNext = true;
        } else {
          const reason = (await res.text()).trim();
          showError(reason ? `Not posted: ${reason}` : `Not posted (HTTP ${res.status}).`);
        }
      } catch {
        showError('Not posted: the server could not be reached. Your text is still here; try again.');
      } finally {
        sending = false;
        fields.disabled = false;
        form.removeAttribute('aria-busy');
        textInput.focus();
      }
    }

    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      send();
    });
    textInput.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter' || ev.shiftKey || ev.isComposing || ev.keyCode === 229) return;
      if (!returnToPost.checked || ev.altKey || ev.ctrlKey || ev.metaKey) return;
      ev.preventDefault();
      send();
    });

    if (!nickInput.value) nickInput.focus();
    else textInput.focus();
    transport.start();
  }

  // ------------------------------------------------------------ badge page

  function initCopyButtons() {
    const status = document.getElementById('copy-status');  // role=status
    for (const button of document.querySelectorAll('button[data-copy]')) {
      button.addEventListener('click', async () => {
        const field = document.getElementById(button.dataset.copy);
        if (!field) return;
        field.focus();
        field.select();
        let copied = false;
        try {
          await navigator.clipboard.writeText(field.value);
          copied = true;
        } catch {
          try { copied = document.execCommand('copy'); } catch { copied = false; }
        }
        button.textContent = copied ? 'Copied' : 'Selected: press Ctrl+C';
        if (status) {
          const label = document.querySelector(`label[for="${field.id}"]`);
          status.textContent = copied ? `Copied: ${label ? label.textContent : 'the snippet'}`
            : 'Selected: press Ctrl+C to copy';
        }
        setTimeout(() => { button.textContent = 'Copy'; }, 2500);
      });
    }
  }

  // An archive day shown in pages (docs/PROTOCOL.md, "Archive days in
  // pages"): a permalink's #entry-SEC-USEC is never sent to the server, so
  // a permalink to a post on another page opens page 1; move on to the page
  // that holds it. data-entry-pages lists where each page starts.
  function followPermalink(body) {
    const parse = (id) => {
      const m = /^entry-([0-9a-f]+)-([0-9a-f]+)$/.exec(id);
      return m ? [parseInt(m[1], 16), parseInt(m[2], 16)] : null;
    };
    const starts = body.dataset.entryPages.split(' ').map(parse);
    const go = () => {
      const id = decodeURIComponent(location.hash.slice(1));
      const want = parse(id);
      if (!want || document.getElementById(id)) return;
      let page = 1;
      starts.forEach((s, i) => {
        if (s && (s[0] < want[0] || (s[0] === want[0] && s[1] <= want[1]))) page = i + 1;
      });
      if (String(page) !== body.dataset.page) location.replace(`?page=${page}${location.hash}`);
    };
    go();
    window.addEventListener('hashchange', go);
  }

  initCopyButtons();
  localizePosts();
  if (document.body.dataset.comet && document.body.dataset.post) initRoom(document.body);
  if (document.body.dataset.entryPages) followPermalink(document.body);
})();
