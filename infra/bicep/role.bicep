// The bot's custom role at the target subscription and its assignment to the job's identity.
// `actions` is role.json's Actions (`remediator permissions` output, kept equal by a test); when the
// role may write role assignments, the assignment carries the ABAC condition
// (`remediator permissions --condition`) so the bot can grant only the roles Update Manager's
// policies name, and only to service principals.
targetScope = 'subscription'

@description('The job identity\'s principal id.')
param principalId string

@description('The custom role\'s actions (role.json).')
param actions array

@description('ABAC condition for the assignment (role-assignment-condition.txt).')
param condition string

param roleName string = 'AUM Remediator'

var grants = contains(actions, 'Microsoft.Authorization/roleAssignments/write')

resource role 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, roleName)
  properties: {
    roleName: roleName
    description: 'Finds and fixes Azure Update Manager failures (aum-remediator).'
    type: 'CustomRole'
    permissions: [
      {
        actions: actions
        notActions: []
      }
    ]
    assignableScopes: [ subscription().id ]
  }
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, role.id)
  properties: {
    roleDefinitionId: role.id
    principalId: principalId
    principalType: 'ServicePrincipal'
    condition: grants ? condition : null
    conditionVersion: grants ? '2.0' : null
  }
}

output roleDefinitionId string = role.id
