// Internal to opmodel: what each family reads from its config.json beyond the fields every family shares.
#pragma once

#include <string>
#include <string_view>

#include "common/json_fields.hpp"
#include "opmodel/error.hpp"
#include "opmodel/model_config.hpp"

namespace opmodel::family {

using Reader = common::JsonFields<ModelError>;

// The family a model_type (or, for an unknown one, a Llama-shaped `architectures` entry) is read as; empty when
// none. Throws nothing.
std::string family_of(const nlohmann::json& config, const std::string& model_type);
// "llama, mistral, ...": the model_types read, for error messages.
std::string supported_list();
// Defaults the family's configuration class fills in for keys its published files leave out (Gemma 3's text
// config states only what differs from them); `j` is completed in place.
void fill_defaults(const std::string& family, nlohmann::json& j);
// Reads the family's own fields into c, whose shared fields (sizes, heads, vocabulary) are already read.
void read_family(const std::string& family, const Reader& r, ModelConfig& c);
// Fails naming the first field that changes the computation and that this family does not read.
void refuse_foreign_fields(const std::string& family, const Reader& r);
// quantization_config: the per-module weight formats it declares. Fails on a method that is not modelled.
ModuleFormats read_quantization(const Reader& r);

}  // namespace opmodel::family
