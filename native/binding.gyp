# One addon, built with only a C++17 compiler and Node's own headers.
# npm points node-gyp at the local headers (`npm config get nodedir`), so the
# build never downloads anything.
{
  "targets": [
    {
      "target_name": "nbforge_native",
      # Every .cc file under src/ (modules register themselves; see src/registry.h).
      # CUDA sources (.cu) are built separately, only where nvcc exists.
      "sources": [
        "<!@(node -e \"console.log(require('fs').readdirSync('src',{recursive:true}).filter(f=>f.endsWith('.cc')).map(f=>'src/'+f).join(' '))\")"
      ],
      "include_dirs": ["src"],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-O3", "-pthread"],
      "ldflags": ["-pthread"],
      "libraries": ["-ldl"],
      "xcode_settings": {
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES"
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17"] }
      }
    }
  ]
}
