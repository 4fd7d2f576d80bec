// Merged by @jupyterlab/builder into its webpack configuration. plotly.js comes
// minified already: parsing and re-minifying its 4.6 MB took two minutes of
// every `npm install`, so webpack neither parses it nor minifies the output.
module.exports = {
  module: { noParse: /plotly\.js-dist-min[\\/]plotly\.min\.js$/ },
  optimization: { minimize: false },
};
