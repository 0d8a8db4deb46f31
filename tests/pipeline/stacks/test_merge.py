"""Joining ``chalice package`` outputs into one stack: ids an app defines get its prefix,
references follow, and what the stack shares is left alone."""

from __future__ import annotations

import pytest

from pipeline.stacks.merge import combined, prefixed


def test_prefix_renames_definitions_and_every_kind_of_reference() -> None:
    template = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "APIHandler": {"Type": "AWS::Serverless::Function", "DependsOn": "Role",
                           "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]},
                                          "Layers": [{"Ref": "SharedLayer"}]}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
            "Permission": {"Type": "AWS::Lambda::Permission", "DependsOn": ["APIHandler"],
                           "Properties": {
                "FunctionName": {"Ref": "APIHandler.Alias"},
                "SourceArn": {"Fn::Sub": ["arn:${AWS::Partition}:${Api}/${APIHandler.Arn}"
                                          "/${SharedTable}", {"Api": {"Ref": "APIHandler"}}]},
                "Plain": {"Fn::Sub": "${APIHandler}-${AWS::Region}-${TenantId}"},
                "Dotted": {"Fn::GetAtt": "Role.Arn"}}},
        },
        "Outputs": {"Url": {"Value": {"Ref": "APIHandler"}}},
    }
    result = prefixed(template, "Product")
    assert result["Transform"] == template["Transform"]
    assert set(result["Resources"]) == {"ProductAPIHandler", "ProductRole", "ProductPermission"}
    assert set(result["Outputs"]) == {"ProductUrl"}
    handler = result["Resources"]["ProductAPIHandler"]
    assert handler["DependsOn"] == "ProductRole"
    assert handler["Properties"]["Role"] == {"Fn::GetAtt": ["ProductRole", "Arn"]}
    assert handler["Properties"]["Layers"] == [{"Ref": "SharedLayer"}]  # the stack's own
    permission = result["Resources"]["ProductPermission"]
    assert permission["DependsOn"] == ["ProductAPIHandler"]
    properties = permission["Properties"]
    assert properties["FunctionName"] == {"Ref": "ProductAPIHandler.Alias"}
    assert properties["SourceArn"] == {"Fn::Sub": [
        "arn:${AWS::Partition}:${Api}/${ProductAPIHandler.Arn}/${SharedTable}",
        {"Api": {"Ref": "ProductAPIHandler"}}]}  # a Sub's own variable keeps its name
    assert properties["Plain"] == {"Fn::Sub": "${ProductAPIHandler}-${AWS::Region}-${TenantId}"}
    assert properties["Dotted"] == {"Fn::GetAtt": "ProductRole.Arn"}
    assert result["Outputs"]["ProductUrl"] == {"Value": {"Ref": "ProductAPIHandler"}}


def test_combined_joins_parts_and_refuses_a_clash() -> None:
    first = {"Resources": {"A": {"Type": "X"}}, "Outputs": {"O": {"Value": 1}}}
    second = {"Resources": {"B": {"Type": "Y"}}, "Parameters": {"P": {"Type": "String"}}}
    assert combined(first, second) == {"Resources": {"A": {"Type": "X"}, "B": {"Type": "Y"}},
                                       "Outputs": {"O": {"Value": 1}},
                                       "Parameters": {"P": {"Type": "String"}}}
    with pytest.raises(ValueError, match="Resources defined twice"):
        combined(first, {"Resources": {"A": {"Type": "Z"}}})
