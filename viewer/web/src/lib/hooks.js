// Extension points for what arrives later: live objects, twins and
// scenarios on the planner, case work on the officer's phone.
//
// Each page has DOM containers marked data-hook="NAME" (see the HTML) and
// calls mountHooks once its map has loaded. A later module registers an
// implementation before that, or at any time after (it is then mounted at
// once):
//
//   import { registerHook } from './lib/hooks.js';
//   registerHook('live-objects', {
//     mount(ctx) { ... ctx.map, ctx.container, ctx.asOf(), ctx.select(f) ... },
//     // planner: ctx.inspect(kicker, title, sub, selected) opens the
//     // inspector for the hook to fill: {body, active()}
//     featureSelected(feature) { ... },   // optional
//     asOfChanged(time) { ... },          // optional, RFC 3339 or null
//   });
//
// Hooks known to the pages:
//   planner: 'live-objects' (sidebar; moving objects and sensor readings),
//            'fences' (sidebar; geofences and their live events),
//            'twins' (sidebar; twin models and their state),
//            'scenarios' (sidebar; what-if scenarios compared on the map),
//            'feature-detail' (inspector; twin/scenario data of a feature)
//   officer: 'cases' (bottom sheet; case work in the officer's grid)

const registered = new Map();
let context = null;

function mountOne(name, impl) {
  const container = document.querySelector(`[data-hook="${name}"]`);
  if (!container) return;
  container.dataset.hookState = 'mounted';
  impl.mount?.({ ...context, container });
}

/** registerHook installs an implementation for a named extension point. */
export function registerHook(name, impl) {
  registered.set(name, impl);
  if (context) mountOne(name, impl);
}

/** mountHooks mounts every registered hook with the page's context. */
export function mountHooks(ctx) {
  context = ctx;
  for (const [name, impl] of registered) mountOne(name, impl);
}

/** notifyHooks calls an optional method on every registered hook. */
export function notifyHooks(method, ...args) {
  for (const impl of registered.values()) impl[method]?.(...args);
}
