#include "opmodel/op_cost.hpp"

#include <stdexcept>

namespace opmodel {

std::string_view to_string(OpKind k) {
  switch (k) {
    case OpKind::linear: return "linear";
    case OpKind::attention: return "attention";
    case OpKind::elementwise: return "elementwise";
    case OpKind::embedding: return "embedding";
  }
  return "?";
}

OpCost& OpList::push(const OpCost& op) {
  if (size_ == kCapacity) throw std::length_error("OpList: more than 48 ops in one step");
  return *std::construct_at(&slots_.ops[size_++], op);
}

const OpCost* OpList::find(std::string_view name) const {
  for (const OpCost& op : *this)
    if (op.name == name) return &op;
  return nullptr;
}

}  // namespace opmodel
