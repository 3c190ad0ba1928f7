// What the page's access token may do, from GET /api/token, so the views offer only the actions
// it allows (the server still decides: a refused request says which right was missing).
//
// createAccess(api) asks once at start and again whenever refresh() is called (after a token
// was entered). Until the server has answered, everything counts as allowed (the page looks as
// it did before tokens). A 401 (no token, or one the server does not accept) allows no change
// and leaves reading to the server. Views call can(), canUnder() and whyNot(), and re-apply
// them when onChange listeners fire.
//
// The rights are the server's grants: {right: 'read'|'write'|'delete'|'admin', scope: 'kv'|'seq',
// prefix}; a grant covers the keys (or counter names) starting with its prefix.

export function createAccess(api) {
  // known: the server answered; token: its name or null; rights: the grants; all: no tokens.
  let state = { known: false, token: null, rights: [], all: false, refused: false };
  const listeners = new Set();

  const covers = (grant, right, scope) => grant.right === right && (right === 'admin' || grant.scope === scope);

  // True when the token may do right on scope's key (right 'read', 'write', 'delete', 'admin').
  function can(right, scope, key) {
    if (!state.known || state.all) return true;
    if (state.refused) return right === 'read';
    return state.rights.some((g) => covers(g, right, scope) && (right === 'admin' || String(key).startsWith(g.prefix)));
  }

  // True when the token may do right on some key starting with prefix.
  function canUnder(right, scope, prefix) {
    if (!state.known || state.all) return true;
    if (state.refused) return right === 'read';
    return state.rights.some((g) => covers(g, right, scope) && (g.prefix.startsWith(prefix) || prefix.startsWith(g.prefix)));
  }

  // Why the token may not do right on key ('' when it may): for an action's title.
  function whyNot(right, scope, key) {
    if (can(right, scope, key)) return '';
    if (state.refused || state.token === null) return `Changes need an access token: use “Token” at the top.`;
    return `The token “${state.token}” may not ${right} this ${scope === 'seq' ? 'counter' : 'key'}: it needs the right ${right}:${scope}/${key}.`;
  }

  async function refresh() {
    try {
      const res = await api.request('GET', '/api/token', { quiet401: true });
      const data = await res.json();
      state = {
        known: true,
        token: typeof data.token === 'string' ? data.token : null,
        rights: Array.isArray(data.rights) ? data.rights.filter((g) => g && typeof g.right === 'string')
          .map((g) => ({ right: g.right, scope: g.scope, prefix: String(g.prefix ?? '') })) : [],
        all: data.all === true,
        refused: false,
      };
    } catch (err) {
      // 401: no token the server accepts. Anything else (an older server, unreachable): unknown.
      state = err && err.status === 401
        ? { known: true, token: null, rights: [], all: false, refused: true }
        : { known: false, token: null, rights: [], all: false, refused: false };
    }
    for (const fn of listeners) fn();
  }

  return {
    can,
    canUnder,
    whyNot,
    refresh,
    // The token's name, or null; whether tokens are configured at all (false until known).
    tokenName: () => state.token,
    tokensInUse: () => state.known && !state.all,
    onChange: (fn) => listeners.add(fn),
  };
}

// Shows an action only when it is allowed.
export function showIfAllowed(node, allowed) {
  node.hidden = !allowed;
}
