// The dashboard page: renders window.ATMOS_DASHBOARD (written by `atmos deployment dashboard`, the
// JSON of status, history, promotion-status, diff and sbom) into views chosen by the URL's hash:
//   #/                                   overview: deployments x targets
//   #/d/<deployment>?target=&component=… promotion graph and the history timeline, filtered
//   #/d/<deployment>/record/<tag>        one record
//   #/d/<deployment>/diff/<from>/<to>    what differs between two targets
// Plain DOM and strings: no library, no network.
(function () {
  'use strict';
  var DATA = window.ATMOS_DASHBOARD;
  var main = document.getElementById('main');

  function esc(v) {
    return String(v === undefined || v === null ? '' : v).replace(/[&<>"']/g, function (c) {
      return '&#' + c.charCodeAt(0) + ';';
    });
  }
  function short(sha) {
    return sha ? String(sha).slice(0, 12) : '';
  }
  function digest(image) {
    var at = String(image).indexOf('@');
    return at < 0 ? String(image) : String(image).slice(at + 1, at + 20);
  }
  function age(iso) {
    if (!iso) return '';
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 90) return s + 's ago';
    if (s < 5400) return Math.round(s / 60) + 'm ago';
    if (s < 129600) return Math.round(s / 3600) + 'h ago';
    return Math.round(s / 86400) + 'd ago';
  }
  function enc(s) {
    return encodeURIComponent(s);
  }
  function link(parts, query) {
    var q = query ? Object.keys(query).filter(function (k) { return query[k]; }).map(function (k) { return enc(k) + '=' + enc(query[k]); }).join('&') : '';
    return '#/' + parts.map(enc).join('/') + (q ? '?' + q : '');
  }
  function badge(text, cls, title) {
    return '<span class="badge ' + esc(cls || '') + '"' + (title ? ' title="' + esc(title) + '"' : '') + '>' + esc(text) + '</span>';
  }
  function status(s) {
    return s ? badge(s, 'status-' + s) : '';
  }
  function deployment(name) {
    return (DATA.deployments || []).filter(function (d) { return d.name === name; })[0];
  }
  /** A data file of a deployment, or undefined when missing or when its command failed. */
  function file(d, path) {
    var j = d.files[path];
    return j && !j.error ? j : undefined;
  }
  function failure(d, path) {
    var j = d.files[path];
    if (!j) return '<p class="empty">Not in this site.</p>';
    return '<p class="empty">' + esc(d.commands[path]) + ' failed: ' + esc(j.error) + (j.hint ? ' (' + esc(j.hint) + ')' : '') + '</p>';
  }
  /** The target pairs with a diff in the site, in the deployment file's order of targets. */
  function pairs(d) {
    var g = file(d, 'promotion-graph.json');
    var order = g ? g.targets.map(function (t) { return t.name; }) : [];
    return Object.keys(d.files).filter(function (p) { return /^diff\//.test(p); }).map(function (p) {
      return p.slice(5, -5).split('..');
    }).sort(function (a, b) {
      return order.indexOf(a[0]) - order.indexOf(b[0]) || order.indexOf(a[1]) - order.indexOf(b[1]);
    });
  }
  function approvalText(a) {
    if (!a) return '';
    return a.approved_by + ' (' + (a.verified ? 'verified, ' : '') + a.method + ')';
  }

  // ---- overview ------------------------------------------------------------------------------
  function overview() {
    var html = ['<h1>Overview</h1>'];
    if (!DATA.deployments.length) html.push('<p class="empty">No deployments in this repository.</p>');
    DATA.deployments.forEach(function (d) {
      var st = file(d, 'status.json');
      html.push('<section aria-labelledby="dep-' + esc(d.name) + '"><h2 id="dep-' + esc(d.name) + '"><a href="' + link(['d', d.name]) + '">' + esc(d.name) + '</a></h2>');
      var ps = file(d, 'promotion-status.json');
      if (ps && ps.edges.length) {
        html.push('<p class="edges">' + ps.edges.map(function (e) {
          var g = (d.graph.edges || []).filter(function (x) { return x.from === e.from && x.to === e.to; })[0];
          return esc(e.from) + ' → ' + esc(e.to) + ' ' + badge(e.state, 'state-' + (g ? g.class : ''), g && g.commands.join('\n'));
        }).join(' &nbsp; ') + '</p>');
      }
      if (!st) {
        html.push(failure(d, 'status.json'), '</section>');
        return;
      }
      var targets = st.targets;
      var components = [];
      targets.forEach(function (t) {
        t.components.forEach(function (c) {
          if (!components.some(function (x) { return x.component === c.component; })) components.push({ component: c.component, type: c.type });
        });
      });
      html.push('<div class="scroll"><table class="overview" data-deployment="' + esc(d.name) + '"><caption class="muted">What runs where: commit, age, who, last status, image, marks</caption><thead><tr><th scope="col">component</th>');
      targets.forEach(function (t) {
        html.push('<th scope="col">' + esc(t.target) + (t.tests ? ' ' + badge('tests ' + t.tests.state, t.tests.state === 'passed' ? 'status-success' : 'status-failed') : '') + '</th>');
      });
      html.push('</tr></thead><tbody>');
      components.forEach(function (comp) {
        html.push('<tr><th scope="row">' + esc(comp.component) + ' <span class="type">' + esc(comp.type) + '</span></th>');
        targets.forEach(function (t) {
          var c = t.components.filter(function (x) { return x.component === comp.component; })[0];
          html.push(cell(d, t.target, c));
        });
        html.push('</tr>');
      });
      html.push('</tbody></table></div></section>');
    });
    return html.join('');
  }

  function cell(d, target, c) {
    var attrs = ' data-target="' + esc(target) + '" data-component="' + esc(c ? c.component : '') + '" data-commit="' + esc(c && c.commit ? c.commit : '') + '"';
    if (!c) return '<td' + attrs + '><span class="empty">-</span></td>';
    var href = link(['d', d.name], { target: target, component: c.component });
    var out = [];
    if (!c.commit) {
      out.push('<span class="empty">not deployed</span>');
      if (c.last_status) out.push(' ' + status(c.last_status));
    } else {
      out.push('<code class="commit">' + esc(short(c.commit)) + '</code> ');
      // The newest attempt, when it is not the deployed success (a failure after it, say).
      out.push(c.last_status && (c.last_status !== 'success' || c.last_commit !== c.commit) ? status(c.last_status) + (c.last_commit !== c.commit ? ' <code class="muted">' + esc(short(c.last_commit)) + '</code>' : '') : status('success'));
      out.push('<br><span class="age" title="' + esc(c.deployed_at) + '">' + esc(age(c.deployed_at)) + '</span> · <span class="who">' + esc(c.deployed_by) + '</span>');
      Object.keys(c.images || {}).forEach(function (k) {
        out.push('<br><span class="mono image" title="' + esc(c.images[k]) + '">' + esc(k) + ' ' + esc(digest(c.images[k])) + '</span>');
      });
      var marks = [];
      if (c.dirty) marks.push(badge('dirty', 'mark-dirty', 'rolled out with --allow-dirty and uncommitted inputs'));
      if (c.rollback_of) marks.push(badge('rollback of ' + short(c.rollback_of), 'mark-rollback'));
      if (c.promoted_from) marks.push(badge('from ' + c.promoted_from, 'mark-promotion', 'promoted from ' + c.promoted_from));
      if (c.approval) marks.push(badge('approved', 'mark-approval', 'approved by ' + approvalText(c.approval)));
      if (c.drift) marks.push(badge('drift: ' + c.drift.status + (c.drift.status === 'drifted' ? ' +' + c.drift.add + ' ~' + c.drift.change + ' -' + c.drift.destroy : ''), c.drift.status === 'in sync' ? '' : 'mark-drift', c.drift.error));
      if (marks.length) out.push('<br>' + marks.join(''));
    }
    return '<td' + attrs + '><a class="cell-link" href="' + href + '" aria-label="history of ' + esc(c.component) + ' on ' + esc(target) + '">' + out.join('') + '</a></td>';
  }

  // ---- deployment: promotion graph and history -------------------------------------------------
  var FILTERS = ['target', 'component', 'who', 'status', 'since', 'until'];

  function deploymentView(d, query) {
    var html = ['<p class="crumbs"><a href="#/">Overview</a> › ' + esc(d.name) + '</p><h1>' + esc(d.name) + '</h1>'];
    html.push('<h2 id="graph">Promotion graph</h2>');
    if (d.graph.svg) {
      html.push('<div class="scroll graph">' + d.graph.svg + '</div>');
      html.push('<p class="legend">' + badge('ready', 'state-ready') + badge('up to date', 'state-up-to-date') + badge('requires approval', 'state-requires-approval') + badge('gated (tests, source not deployed)', 'state-gated') + '</p>');
      if (d.graph.edges.length) {
        html.push('<div class="scroll"><table class="edges"><thead><tr><th scope="col">edge</th><th scope="col">state</th><th scope="col">promotes</th><th scope="col">command to run</th></tr></thead><tbody>');
        var ps = file(d, 'promotion-status.json');
        d.graph.edges.forEach(function (e) {
          var s = ps && ps.edges.filter(function (x) { return x.from === e.from && x.to === e.to; })[0];
          html.push('<tr data-edge="' + esc(e.from + '->' + e.to) + '"><td>' + esc(e.from) + ' → ' + esc(e.to) + '</td><td>' + badge(e.state, 'state-' + e.class) + '</td><td>' +
            (s ? s.pending_commits.map(function (c) { return '<code>' + esc(short(c)) + '</code>'; }).join(' ') : '') + '</td><td class="commands">' +
            (e.commands.length ? e.commands.map(function (c) { return '<code>' + esc(c) + '</code>'; }).join('') : '<span class="muted">nothing to do</span>') + '</td></tr>');
        });
        html.push('</tbody></table></div>');
      }
    } else html.push(failure(d, 'promotion-graph.json'));
    var ps2 = pairs(d);
    if (ps2.length) {
      html.push('<h2>Diffs between targets</h2><p class="pairs">' + ps2.map(function (p) {
        return '<a href="' + link(['d', d.name, 'diff', p[0], p[1]]) + '">' + esc(p[0]) + ' → ' + esc(p[1]) + '</a>';
      }).join('') + '</p>');
    }
    html.push('<h2 id="history">History</h2>');
    var h = file(d, 'history.json');
    if (!h) return html.join('') + failure(d, 'history.json');
    var entries = h.entries;
    var options = function (key) {
      var seen = {};
      entries.forEach(function (e) { seen[key(e)] = true; });
      return Object.keys(seen).sort();
    };
    var select = function (name, label, values) {
      return '<label>' + esc(label) + '<select name="' + name + '"><option value="">all</option>' + values.map(function (v) {
        return '<option' + (query.get(name) === v ? ' selected' : '') + '>' + esc(v) + '</option>';
      }).join('') + '</select></label>';
    };
    html.push('<form class="filters" id="filters" aria-label="filter the history">' +
      select('target', 'target', options(function (e) { return e.target; })) +
      select('component', 'component', options(function (e) { return e.component; })) +
      select('who', 'who', options(function (e) { return e.deployed_by || ''; })) +
      select('status', 'status', options(function (e) { return e.status; })) +
      '<label>from<input type="date" name="since" value="' + esc(query.get('since') || '') + '"></label>' +
      '<label>to<input type="date" name="until" value="' + esc(query.get('until') || '') + '"></label>' +
      '<button type="button" id="clear">clear</button></form>');
    html.push('<p id="count" class="muted" aria-live="polite"></p><div class="scroll"><table class="timeline"><thead><tr><th scope="col">time</th><th scope="col">target</th><th scope="col">component</th><th scope="col">status</th><th scope="col">commit</th><th scope="col" class="wide">by</th><th scope="col" class="wide">notes</th></tr></thead><tbody id="timeline"></tbody></table></div><p><button type="button" id="more"></button> <button type="button" id="all">show all</button></p>');
    main.innerHTML = html.join('');
    var form = document.getElementById('filters');
    var apply = function () {
      var q = new URLSearchParams();
      FILTERS.forEach(function (k) { if (form.elements[k].value) q.set(k, form.elements[k].value); });
      history.replaceState(null, '', link(['d', d.name], Object.fromEntries(q)));
      timeline(d, entries, q);
    };
    form.addEventListener('change', apply);
    document.getElementById('clear').addEventListener('click', function () {
      FILTERS.forEach(function (k) { form.elements[k].value = ''; });
      apply();
    });
    timeline(d, entries, query);
    return undefined;
  }

  /** Rows are added CHUNK at a time (more as the end scrolls into view): a long history opens at once. */
  var CHUNK = 200;
  var observer = null;

  function timeline(d, entries, q) {
    var f = {};
    FILTERS.forEach(function (k) { f[k] = q.get(k) || ''; });
    var shown = entries.filter(function (e) {
      if ((f.target && e.target !== f.target) || (f.component && e.component !== f.component) || (f.who && (e.deployed_by || '') !== f.who) || (f.status && e.status !== f.status)) return false;
      var date = String(e.timestamp).slice(0, 10);
      return !((f.since && date < f.since) || (f.until && date > f.until));
    });
    var body = document.getElementById('timeline');
    var more = document.getElementById('more');
    var done = 0;
    var day = '';
    var add = function (n) {
      var rows = [];
      var end = Math.min(shown.length, done + n);
      for (; done < end; done++) {
        var e = shown[done];
        var date = String(e.timestamp).slice(0, 10);
        if (date !== day) {
          day = date;
          rows.push('<tr class="day"><th colspan="7" scope="rowgroup">' + esc(date) + '</th></tr>');
        }
        rows.push(row(d, e));
      }
      body.insertAdjacentHTML('beforeend', rows.join(''));
      more.hidden = document.getElementById('all').hidden = done >= shown.length;
      more.textContent = 'show ' + Math.min(CHUNK, shown.length - done) + ' more of ' + (shown.length - done);
    };
    body.innerHTML = shown.length ? '' : '<tr><td colspan="7" class="empty">No record matches.</td></tr>';
    document.getElementById('count').textContent = shown.length + ' of ' + entries.length + ' records';
    more.onclick = function () { add(CHUNK); };
    document.getElementById('all').onclick = function () { add(shown.length); };
    add(CHUNK);
    if (observer) observer.disconnect();
    if (window.IntersectionObserver) {
      observer = new IntersectionObserver(function (seen) {
        if (seen[0].isIntersecting && done < shown.length) add(CHUNK);
      }, { rootMargin: '400px' });
      observer.observe(more);
    }
  }

  function row(d, e) {
    var notes = [];
    if (typeof e.message === 'string') notes.push('“' + esc(e.message) + '”');
    if (e.promoted_from) notes.push('promoted from ' + esc(e.promoted_from));
    if (e.rollback_of) notes.push('rollback of ' + esc(short(e.rollback_of)));
    if (e.approval) notes.push('approved by ' + esc(approvalText(e.approval)));
    if (e.dirty) notes.push('dirty');
    if (e.metadata && e.metadata.error) notes.push(esc(e.metadata.error));
    return '<tr class="s-' + esc(e.status) + '"><td><a href="' + link(['d', d.name, 'record', e.tag]) + '">' + esc(String(e.timestamp).slice(11)) + '</a></td><td>' + esc(e.target) + '</td><td>' + esc(e.component) +
      '</td><td>' + status(e.status) + '</td><td><code>' + esc(short(e.git_sha)) + '</code></td><td class="wide">' + esc(e.deployed_by) + '</td><td class="wide">' + notes.join(', ') + '</td></tr>';
  }

  // ---- one record --------------------------------------------------------------------------------
  var RECORD_FIELDS = ['deployment', 'target', 'component', 'component_type', 'status', 'git_sha', 'timestamp', 'deployed_by', 'message', 'promoted_from', 'promoted_at', 'config_sha', 'rollback_of', 'build_id', 'dirty'];

  function yamlish(value, indent) {
    if (value === null || typeof value !== 'object') return JSON.stringify(value);
    var pad = new Array(indent + 1).join('  ');
    return Object.keys(value).map(function (k) {
      var v = value[k];
      return '\n' + pad + k + ':' + (v !== null && typeof v === 'object' ? yamlish(v, indent + 1) : ' ' + (typeof v === 'string' && /^[\w@.:\/+-][\w@.:\/+ -]*$/.test(v) && !/: /.test(v) ? v : JSON.stringify(v)));
    }).join('');
  }

  function recordView(d, tag) {
    var h = file(d, 'history.json');
    var e = h && h.entries.filter(function (x) { return x.tag === tag; })[0];
    var html = ['<p class="crumbs"><a href="#/">Overview</a> › <a href="' + link(['d', d.name]) + '">' + esc(d.name) + '</a> › record</p>'];
    if (!e) return html.join('') + '<p class="empty">No record ' + esc(tag) + ' in this site.</p>';
    html.push('<h1>' + esc(e.target) + ' / ' + esc(e.component) + ' ' + status(e.status) + '</h1><p class="muted">' + esc(e.timestamp) + ' · tag <code>' + esc(e.tag) + '</code></p>');
    html.push('<dl class="fields">');
    RECORD_FIELDS.forEach(function (k) {
      if (e[k] === undefined || e[k] === null) return;
      html.push('<dt>' + esc(k) + '</dt><dd>' + (/sha|_of$/.test(k) ? '<code>' + esc(e[k]) + '</code>' : esc(e[k])) + '</dd>');
    });
    Object.keys(e.images || {}).forEach(function (k) { html.push('<dt>image ' + esc(k) + '</dt><dd><code>' + esc(e.images[k]) + '</code></dd>'); });
    if (e.ci && e.ci.run_url) html.push('<dt>CI run</dt><dd><a href="' + esc(e.ci.run_url) + '" rel="noreferrer">' + esc(e.ci.run_url) + '</a></dd>');
    if (e.metadata && e.metadata.error) html.push('<dt>error</dt><dd>' + esc(e.metadata.error) + '</dd>');
    html.push('</dl>');

    html.push('<h2>Approval</h2>');
    html.push(e.approval ? '<dl class="fields"><dt>approved by</dt><dd>' + esc(e.approval.approved_by) + '</dd><dt>method</dt><dd>' + esc(e.approval.method) + (e.approval.verified ? ' (signature verified)' : '') + '</dd>' +
      (e.approval.timestamp ? '<dt>at</dt><dd>' + esc(e.approval.timestamp) + '</dd>' : '') + (e.approval.message ? '<dt>why</dt><dd>' + esc(e.approval.message) + '</dd>' : '') + '</dl>' : '<p class="empty">No approval recorded (the target requires none, or this attempt had none).</p>');

    html.push('<h2>Test results</h2>');
    var st = file(d, 'status.json');
    var t = st && st.targets.filter(function (x) { return x.target === e.target; })[0];
    var runs = t && t.components.some(function (c) { return c.component === e.component && c.commit === e.git_sha; });
    if (t && t.tests && runs) {
      html.push('<p>' + badge('tests ' + t.tests.state, t.tests.state === 'passed' ? 'status-success' : 'status-failed') + (t.tests.tested_at ? ' at ' + esc(t.tests.tested_at) + ' by ' + esc(t.tests.tested_by) : '') +
        (t.tests.failed_checks.length ? ' · failed: ' + esc(t.tests.failed_checks.join(', ')) : '') + '</p>');
    } else html.push('<p class="empty">' + (t && !t.tests ? esc(e.target) + ' declares no tests.' : 'No test results for this commit in this site (status shows the tests of the commits a target runs now).') + '</p>');

    html.push('<h2>SBOM</h2>');
    var path = 'sbom/' + e.target + '/' + e.git_sha + '.json';
    var sbom = file(d, path);
    var comp = sbom && sbom.components.filter(function (c) { return c.name === e.component || c.key === e.component; })[0];
    if (comp) {
      html.push('<p>' + esc(comp.key) + ' (' + esc(comp.kind) + ')' + (comp.version ? ' ' + esc(comp.version) : '') + ': ' + comp.packages.length + ' package' + (comp.packages.length === 1 ? '' : 's') + ', ' + comp.direct.length + ' direct' + (comp.incomplete ? ' ' + badge('incomplete', 'mark-dirty', comp.warnings.join('\n')) : '') + '</p>');
      if (comp.packages.length) {
        html.push('<div class="scroll"><table class="packages"><thead><tr><th scope="col">package</th><th scope="col">version</th><th scope="col">ecosystem</th><th scope="col">scope</th></tr></thead><tbody>' +
          comp.packages.slice(0, 500).map(function (p) { return '<tr><td>' + esc(p.name) + '</td><td>' + esc(p.version) + '</td><td>' + esc(p.ecosystem) + '</td><td>' + esc(p.scope) + '</td></tr>'; }).join('') + '</tbody></table></div>');
        if (comp.packages.length > 500) html.push('<p class="muted">First 500 of ' + comp.packages.length + ': the full list is in data/' + esc(d.name) + '/' + esc(path) + '.</p>');
      }
    } else if (d.files[path]) html.push(sbom ? '<p class="empty">The SBOM of this commit has no ' + esc(e.component) + '.</p>' : failure(d, path));
    else html.push('<p class="empty">Not in this site (it keeps the SBOMs of the newest commits of each target): <code>atmos deployment sbom ' + esc(d.name) + ' --target ' + esc(e.target) + ' --git-sha ' + esc(short(e.git_sha)) + '</code></p>');

    var fields = {};
    Object.keys(e).forEach(function (k) { if (k !== 'tag') fields[k] = e[k]; });
    html.push('<h2>Tag message</h2><p class="muted">The record\'s fields; <code>git cat-file tag ' + esc(e.tag) + '</code> prints the tag itself.</p><pre class="mono">atmos.tools/v1alpha1\nkind: Deployment\n---' + esc(yamlish(fields, 0)) + '</pre>');
    return html.join('');
  }

  // ---- diff between two targets -------------------------------------------------------------------
  function diffView(d, from, to) {
    var html = ['<p class="crumbs"><a href="#/">Overview</a> › <a href="' + link(['d', d.name]) + '">' + esc(d.name) + '</a> › diff</p><h1>' + esc(from) + ' → ' + esc(to) + '</h1>'];
    html.push('<p class="pairs">Other pairs: ' + pairs(d).map(function (p) {
      return '<a href="' + link(['d', d.name, 'diff', p[0], p[1]]) + '"' + (p[0] === from && p[1] === to ? ' aria-current="page"' : '') + '>' + esc(p[0]) + ' → ' + esc(p[1]) + '</a>';
    }).join('') + '</p>');
    var path = 'diff/' + from + '..' + to + '.json';
    var diff = file(d, path);
    if (!diff) return html.join('') + (d.files[path] ? failure(d, path) : '<p class="empty">This pair is not in the site: <code>atmos deployment diff ' + esc(d.name) + ' --from-target ' + esc(from) + ' --to-target ' + esc(to) + '</code></p>');
    html.push('<p class="muted">' + esc(from) + ' runs <code>' + esc(short(diff.from.commit) || 'nothing') + '</code>, ' + esc(to) + ' runs <code>' + esc(short(diff.to.commit) || 'nothing') + '</code></p>');
    var table = function (id, headers, rows, empty) {
      if (!rows.length) return '<p class="empty" id="' + id + '">' + esc(empty) + '</p>';
      return '<div class="scroll"><table id="' + id + '"><thead><tr>' + headers.map(function (h) { return '<th scope="col">' + esc(h) + '</th>'; }).join('') + '</tr></thead><tbody>' +
        rows.map(function (r) { return '<tr>' + r.map(function (c) { return '<td>' + c + '</td>'; }).join('') + '</tr>'; }).join('') + '</tbody></table></div>';
    };
    var commitRows = function (list) {
      return list.map(function (c) { return ['<code>' + esc(short(c.sha)) + '</code>', esc(c.subject), esc(c.author), esc(c.date)]; });
    };
    html.push('<h2>Commits</h2><h3>in ' + esc(from) + ', not in ' + esc(to) + '</h3>' + table('commits-from', ['commit', 'subject', 'author', 'date'], commitRows(diff.commits.only_in_from), 'none'));
    html.push('<h3>in ' + esc(to) + ', not in ' + esc(from) + '</h3>' + table('commits-to', ['commit', 'subject', 'author', 'date'], commitRows(diff.commits.only_in_to), 'none'));
    var differing = diff.components.filter(function (c) { return c.changed.length; });
    html.push('<h2>Components</h2>' + table('components', ['component', 'type', from, to, 'differs in'], differing.map(function (c) {
      return [esc(c.component), esc(c.type), '<code>' + esc(short(c.from_commit) || '-') + '</code>', '<code>' + esc(short(c.to_commit) || '-') + '</code>', esc(c.changed.join(', '))];
    }), 'No component differs in commit or image.'));
    var images = [];
    diff.components.forEach(function (c) {
      var names = Object.keys(Object.assign({}, c.from_images, c.to_images));
      names.forEach(function (n) {
        var a = (c.from_images || {})[n];
        var b = (c.to_images || {})[n];
        if (a !== b) images.push([esc(c.component), esc(n), '<code title="' + esc(a) + '">' + esc(a ? digest(a) : '-') + '</code>', '<code title="' + esc(b) + '">' + esc(b ? digest(b) : '-') + '</code>']);
      });
    });
    html.push('<h2>Images</h2>' + table('images', ['component', 'image', from, to], images, 'The same images on both.'));
    var show = function (v) { return v === null || v === undefined ? '-' : typeof v === 'string' ? v : JSON.stringify(v); };
    html.push('<h2>Configuration</h2>' + table('config', ['component', 'key', from, to], diff.config.map(function (c) {
      return [esc(c.component), '<code>' + esc(c.path) + '</code>', esc(show(c.from)), esc(show(c.to))];
    }), 'The same configuration on both.'));
    html.push('<h2>Packages</h2>');
    var spath = 'sbom-diff/' + from + '..' + to + '.json';
    var sd = file(d, spath);
    if (!sd) html.push(failure(d, spath));
    else {
      var pk = function (list, kind) {
        return list.map(function (p) {
          return [esc(kind), esc(p.component), esc(p.name), esc(p.ecosystem), esc(p.from !== undefined ? show(p.from) : ''), esc(p.to !== undefined ? show(p.to) : '')];
        });
      };
      html.push('<p>' + sd.added.length + ' added, ' + sd.removed.length + ' removed, ' + sd.changed.length + ' changed</p>');
      html.push(table('packages', ['', 'component', 'package', 'ecosystem', from, to], pk(sd.added, 'added').concat(pk(sd.removed, 'removed'), pk(sd.changed, 'changed')), 'The same packages on both.'));
    }
    return html.join('');
  }

  // ---- routing ---------------------------------------------------------------------------------------
  function nav(current) {
    document.getElementById('nav').innerHTML = DATA.deployments.map(function (d) {
      return '<a href="' + link(['d', d.name]) + '"' + (d.name === current ? ' aria-current="page"' : '') + '>' + esc(d.name) + '</a>';
    }).join('');
    document.getElementById('generated').textContent = 'generated ' + DATA.generated_at + ' by atmos-deployments ' + DATA.tool_version;
  }

  function render() {
    var hash = location.hash.replace(/^#\/?/, '');
    var at = hash.indexOf('?');
    var query = new URLSearchParams(at < 0 ? '' : hash.slice(at + 1));
    var parts = (at < 0 ? hash : hash.slice(0, at)).split('/').filter(Boolean).map(decodeURIComponent);
    var d = parts[0] === 'd' ? deployment(parts[1]) : undefined;
    nav(d && d.name);
    var html;
    if (!d) {
      html = parts.length ? '<p class="empty">No such page. <a href="#/">Overview</a></p>' : overview();
      document.title = 'Deployments';
    } else {
      document.title = d.name + ' · Deployments';
      if (parts[2] === 'record') html = recordView(d, parts.slice(3).join('/'));
      else if (parts[2] === 'diff') html = diffView(d, parts[3], parts[4]);
      else html = deploymentView(d, query);
    }
    if (html !== undefined) main.innerHTML = html;
    performance.mark('atmos-rendered');
  }

  document.getElementById('skip').addEventListener('click', function (ev) {
    ev.preventDefault();
    main.focus();
  });
  window.addEventListener('hashchange', function () {
    render();
    main.focus({ preventScroll: false });
    window.scrollTo(0, 0);
  });
  if (!DATA) {
    main.innerHTML = '<p class="empty">data.js is missing: generate the site again with atmos deployment dashboard.</p>';
    return;
  }
  render();
})();
