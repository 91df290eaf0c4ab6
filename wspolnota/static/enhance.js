// Progressive enhancement only: every page works without this file (the CSP allows no inline scripts).
document.addEventListener('DOMContentLoaded', function () {
  // the need form: suggest residents already known (a <datalist> rendered by the page)
  var resident = document.getElementById('resident_ref');
  if (resident && document.getElementById('znani-mieszkancy')) {
    resident.setAttribute('list', 'znani-mieszkancy');
  }
});
