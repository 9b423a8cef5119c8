// Where the mini program finds its Yibi server. Point host at your HTTPS
// domain (configured as a request domain in the mini program console); for
// the developer tools with "do not check domains", a local yibi works.
export default {
  host: 'http://127.0.0.1:5757',
  // YIBI_ROUTE_BASE_PATH of the server.
  basePath: '/applet',
};
