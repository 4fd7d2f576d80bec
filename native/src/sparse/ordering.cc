// Approximate minimum degree ordering (Amestoy, Davis & Duff, "An approximate
// minimum degree ordering algorithm", SIMAX 1996) on the quotient graph:
// eliminated nodes become elements that stand for the clique they create, so
// the graph never grows; degrees of the nodes next to a new element are
// bounded from above as AMD does instead of recomputed exactly.
//
// Before elimination, nodes with identical closed neighbourhoods (the d×d
// blocks of a SLAM matrix) are merged into weighted supervariables, which
// divides the work by the block size and keeps blocks together in the order.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "sparse/sparse.h"

namespace nbforge {
namespace sparse {

namespace {

// Symmetric adjacency (no self loops) from the upper triangle, sorted rows.
std::vector<std::vector<int32_t>> adjacency(int64_t n, const int32_t* indptr,
                                            const int32_t* indices) {
  std::vector<std::vector<int32_t>> adj(n);
  for (int64_t i = 0; i < n; ++i)
    for (int32_t p = indptr[i]; p < indptr[i + 1]; ++p) {
      const int32_t j = indices[p];
      if (j == i) continue;
      adj[i].push_back(j);
      adj[j].push_back(static_cast<int32_t>(i));
    }
  for (auto& a : adj) {
    std::sort(a.begin(), a.end());
    a.erase(std::unique(a.begin(), a.end()), a.end());
  }
  return adj;
}

}  // namespace

std::vector<int32_t> minimum_degree(int64_t n, const int32_t* indptr, const int32_t* indices) {
  std::vector<int32_t> perm;
  perm.reserve(n);
  if (n == 0) return perm;
  const auto adj = adjacency(n, indptr, indices);

  // Supervariables: hash the closed neighbourhood, then compare within a hash.
  std::vector<std::pair<uint64_t, int32_t>> keyed(n);
  for (int64_t i = 0; i < n; ++i) {
    uint64_t h = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull;
    for (int32_t j : adj[i]) h += static_cast<uint64_t>(j) * 0x9E3779B97F4A7C15ull;
    keyed[i] = {h ^ (adj[i].size() << 48), static_cast<int32_t>(i)};
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<int32_t> rep(n, -1);
  auto closed_equal = [&](int32_t a, int32_t b) {
    // N[a] ∪ {a} == N[b] ∪ {b}  <=>  a ∈ N[b] and N[a] \ {b} == N[b] \ {a}.
    if (adj[a].size() != adj[b].size()) return false;
    if (!std::binary_search(adj[a].begin(), adj[a].end(), b)) return false;
    size_t x = 0, y = 0;
    while (x < adj[a].size() || y < adj[b].size()) {
      if (x < adj[a].size() && adj[a][x] == b) { ++x; continue; }
      if (y < adj[b].size() && adj[b][y] == a) { ++y; continue; }
      if (x >= adj[a].size() || y >= adj[b].size() || adj[a][x] != adj[b][y]) return false;
      ++x, ++y;
    }
    return true;
  };
  for (int64_t s = 0; s < n;) {
    int64_t e = s;
    while (e < n && keyed[e].first == keyed[s].first) ++e;
    for (int64_t a = s; a < e; ++a) {
      const int32_t ia = keyed[a].second;
      if (rep[ia] >= 0) continue;
      rep[ia] = ia;
      for (int64_t b = a + 1; b < e; ++b) {
        const int32_t ib = keyed[b].second;
        if (rep[ib] < 0 && closed_equal(ia, ib)) rep[ib] = ia;
      }
    }
    s = e;
  }
  // Compressed graph over representatives, weighted by their member count.
  std::vector<int32_t> node_of(n, -1);
  std::vector<int32_t> reps;
  for (int64_t i = 0; i < n; ++i)
    if (rep[i] == i) {
      node_of[i] = static_cast<int32_t>(reps.size());
      reps.push_back(static_cast<int32_t>(i));
    }
  const int64_t m = static_cast<int64_t>(reps.size());
  std::vector<std::vector<int32_t>> members(m);
  for (int64_t i = 0; i < n; ++i) members[node_of[rep[i]]].push_back(static_cast<int32_t>(i));
  std::vector<int64_t> weight(m);
  for (int64_t v = 0; v < m; ++v) weight[v] = static_cast<int64_t>(members[v].size());
  std::vector<std::vector<int32_t>> adj_var(m), adj_elem(m), elem_vars(m);
  for (int64_t v = 0; v < m; ++v) {
    for (int32_t j : adj[reps[v]]) {
      const int32_t u = node_of[rep[j]];
      if (u != v) adj_var[v].push_back(u);
    }
    std::sort(adj_var[v].begin(), adj_var[v].end());
    adj_var[v].erase(std::unique(adj_var[v].begin(), adj_var[v].end()), adj_var[v].end());
  }

  // 0 variable, 1 element, 2 absorbed element.
  std::vector<uint8_t> status(m, 0);
  std::vector<int64_t> degree(m, 0), elem_weight(m, 0), outside(m, -1);
  std::vector<int64_t> mark(m, -1);
  int64_t stamp = 0, remaining = n;
  // Variables in doubly linked lists by degree (degrees are below n), so
  // picking the minimum and moving a variable are O(1) (as in AMD).
  std::vector<int32_t> head(n + 1, -1), next(m, -1), prev(m, -1);
  auto insert = [&](int32_t v) {
    const int64_t d = degree[v];
    next[v] = head[d];
    prev[v] = -1;
    if (head[d] >= 0) prev[head[d]] = v;
    head[d] = v;
  };
  auto remove = [&](int32_t v) {
    if (prev[v] >= 0) next[prev[v]] = next[v];
    else head[degree[v]] = next[v];
    if (next[v] >= 0) prev[next[v]] = prev[v];
  };
  for (int64_t v = 0; v < m; ++v) {
    for (int32_t u : adj_var[v]) degree[v] += weight[u];
    insert(static_cast<int32_t>(v));
  }
  int64_t min_degree = 0;
  std::vector<int32_t> lp;
  for (int64_t step = 0; step < m; ++step) {
    while (head[min_degree] < 0) ++min_degree;
    const int32_t p = head[min_degree];
    remove(p);
    // The new element's variables: p's variable neighbours and the variables
    // of every element p touches (those elements are absorbed into p).
    ++stamp;
    mark[p] = stamp;
    lp.clear();
    int64_t lp_weight = 0;
    auto take = [&](int32_t v) {
      if (status[v] == 0 && mark[v] != stamp) {
        mark[v] = stamp;
        lp.push_back(v);
        lp_weight += weight[v];
      }
    };
    for (int32_t v : adj_var[p]) take(v);
    for (int32_t e : adj_elem[p]) {
      if (status[e] != 1) continue;
      for (int32_t v : elem_vars[e]) take(v);
      status[e] = 2;
      std::vector<int32_t>().swap(elem_vars[e]);
    }
    status[p] = 1;
    elem_vars[p] = lp;
    elem_weight[p] = lp_weight;
    std::vector<int32_t>().swap(adj_var[p]);
    std::vector<int32_t>().swap(adj_elem[p]);
    for (int32_t v : members[p]) perm.push_back(v);
    remaining -= weight[p];

    // |Le \ Lp| for every other element next to Lp (AMD's first scan).
    const int64_t scan = stamp;
    for (int32_t i : lp)
      for (int32_t e : adj_elem[i]) {
        if (status[e] != 1 || e == p) continue;
        if (mark[e] != scan) {
          mark[e] = scan;
          outside[e] = elem_weight[e];
        }
        outside[e] -= weight[i];
      }
    // Prune each neighbour's lists and bound its external degree.
    for (int32_t i : lp) {
      auto& ae = adj_elem[i];
      int64_t elem_sum = 0;
      size_t w = 0;
      for (int32_t e : ae) {
        if (status[e] != 1 || e == p) continue;
        if (outside[e] == 0) {  // Le ⊆ Lp: absorb e into p (aggressive absorption)
          status[e] = 2;
          std::vector<int32_t>().swap(elem_vars[e]);
          continue;
        }
        elem_sum += outside[e];
        ae[w++] = e;
      }
      ae.resize(w);
      ae.push_back(p);
      auto& av = adj_var[i];
      int64_t var_sum = 0;
      w = 0;
      for (int32_t u : av) {
        if (status[u] != 0 || mark[u] == stamp) continue;  // eliminated, or now reached through p
        var_sum += weight[u];
        av[w++] = u;
      }
      av.resize(w);
      const int64_t others = lp_weight - weight[i];
      int64_t d = var_sum + others + elem_sum;
      d = std::min(d, degree[i] + others);
      d = std::min(d, remaining - weight[i]);
      remove(i);
      degree[i] = std::max<int64_t>(d, 0);
      insert(i);
      min_degree = std::min(min_degree, degree[i]);
    }
    // Every element that held p was absorbed into p, so the live elements'
    // weights (elem_weight) still count live variables only.
  }
  return perm;
}

}  // namespace sparse
}  // namespace nbforge
